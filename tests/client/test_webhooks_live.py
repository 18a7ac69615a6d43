"""Webhooks end to end: a live server and a real Celery worker on Redis, a real HTTP receiver in
the test. An upload's analysis and a run's completion reach the receiver signed (HMAC-SHA256 over
timestamp and body); a failing receiver gets retries with growing waits, and a hook whose
deliveries keep failing is disabled with the reason."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ledger_client import Client, verify_webhook

from .live import free_port, wait_until

DATA = Path(__file__).resolve().parents[1] / "data" / "public"
pytestmark = pytest.mark.live_server


class Receiver:
    """A threaded http.server that records every request and answers with the next planned status."""

    def __init__(self, statuses: list[int] | None = None):
        self.requests: list[dict] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"at": time.monotonic(), "headers": dict(self.headers), "body": body,
                                          "path": self.path})
                code = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(statuses=None) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


def register(server, url: str, events: list[str]) -> dict:
    with server.api(server.info["lead_token"]) as api:
        response = api.post("webhooks/", json={"project": server.info["project"], "url": url, "events": events})
        assert response.status_code == 201, response.text
        return response.json()


def test_events_arrive_signed_and_failures_are_retried_then_the_hook_is_disabled(ledger_server, redis_broker, receiver):
    server = ledger_server(broker=redis_broker, env={
        "LEDGER_WEBHOOK_BACKOFF_S": "0.5", "LEDGER_WEBHOOK_MAX_ATTEMPTS": "3", "LEDGER_WEBHOOK_DISABLE_AFTER": "2"})
    server.start_worker()
    good = receiver()
    # The flaky receiver fails twice, then takes the third attempt; after that it fails everything.
    flaky = receiver([500, 503, 200] + [500] * 6)
    good_hook = register(server, good.url, ["analysis.done", "analysis.failed", "run.completed"])
    flaky_hook = register(server, flaky.url, ["analysis.done"])
    assert len(good_hook["secret"]) == 64

    pixel = f"{server.info['devices']['QD-only control LED, stack A']}-A"
    with Client(server.url, server.info["station_token"]) as client:
        el = client.upload(DATA / "el_spectrum.txt", pixel, kind="el",
                           content=(DATA / "el_spectrum.txt").read_bytes() + b"\n")
        assert client.wait(el["id"], timeout=120)["status"] == "done"
    # A run completed through the API is an event too.
    with server.api(server.info["lead_token"]) as api:
        runs = api.get("runs/", params={"status": "planned", "limit": 500}).json()["results"]
        if not runs:
            version = api.get("recipe-versions/", params={"limit": 1}).json()["results"][0]["id"]
            run = api.post("runs/", json={"recipe_version": version, "project": server.info["project"]}).json()
        else:
            run = runs[0]
        assert api.post(f"runs/{run['label']}/complete/", json={}).status_code == 201, "run not completed"

    wait_until(lambda: len(good.requests) >= 2, 60, "the good receiver's two deliveries")
    events = {}
    for req in good.requests:
        headers = req["headers"]
        # The client package's verifier, and the same HMAC by hand: sha256 over "<timestamp>.<body>".
        assert verify_webhook(good_hook["secret"], req["body"], headers)
        assert not verify_webhook(flaky_hook["secret"], req["body"], headers)
        ts = headers["X-Ledger-Timestamp"]
        by_hand = hmac.new(good_hook["secret"].encode(), f"{ts}.".encode() + req["body"], hashlib.sha256).hexdigest()
        assert headers["X-Ledger-Signature-256"] == f"sha256={by_hand}"
        payload = json.loads(req["body"])
        assert payload["event"] == headers["X-Ledger-Event"]
        events[payload["event"]] = payload
    done = events["analysis.done"]
    assert done["file"] == {"id": el["id"], "url": f"{server.url}/api/v1/measurements/{el['id']}/", "status": "done"}
    assert done["pixel"] == {"label": pixel} and done["project"] == server.info["project"]
    assert set(done) == {"event", "project", "occurred_at", "file", "sample", "pixel", "metrics_url"}  # ids and URLs only
    assert events["run.completed"]["run"]["label"] == run["label"] and events["run.completed"]["outputs"]

    # Retries: two failures, then success on the third attempt, each wait longer than the last.
    wait_until(lambda: len(flaky.requests) >= 3, 60, "three attempts at the flaky receiver")
    gaps = [b["at"] - a["at"] for a, b in zip(flaky.requests, flaky.requests[1:], strict=False)]
    assert gaps[0] >= 0.4 and gaps[1] >= 0.8 and gaps[1] > gaps[0], gaps  # backoff 0.5 s, then 1 s
    assert len({r["headers"]["X-Ledger-Delivery"] for r in flaky.requests[:3]}) == 1  # one delivery, three attempts
    with server.api(server.info["lead_token"]) as api:
        log = api.get(f"webhooks/{flaky_hook['id']}/deliveries/").json()["results"]
        assert [d["status"] for d in log] == ["succeeded"] and log[0]["attempts"] == 3
        assert [a["http_status"] for a in log[0]["log"]] == [500, 503, 200]

    # Now every attempt fails: two deliveries (3 attempts each) in a row → the hook is disabled.
    with Client(server.url, server.info["station_token"]) as client:
        for n in (2, 3):
            f = client.upload(DATA / "el_spectrum.txt", pixel, kind="el",
                              content=(DATA / "el_spectrum.txt").read_bytes() + b"\n" * n)
            client.wait(f["id"], timeout=120)

    def disabled():
        with server.api(server.info["lead_token"]) as api:
            hook = api.get(f"webhooks/{flaky_hook['id']}/").json()
            return hook if not hook["is_active"] else None

    hook = wait_until(disabled, 90, "the failing hook to be disabled")
    assert "2 deliveries in a row failed 3 attempts each" in hook["disabled_reason"] and "HTTP 500" in hook["disabled_reason"]
    assert len(flaky.requests) == 3 + 6
    # A disabled hook gets nothing more; the good one still gets every event.
    with Client(server.url, server.info["station_token"]) as client:
        f = client.upload(DATA / "el_spectrum.txt", pixel, kind="el", content=(DATA / "el_spectrum.txt").read_bytes() + b"\n" * 4)
        client.wait(f["id"], timeout=120)
    wait_until(lambda: len(good.requests) >= 5, 60, "the good receiver's later deliveries")
    time.sleep(1.0)
    assert len(flaky.requests) == 9
    # Turned on again by a member: a clean slate.
    with server.api(server.info["lead_token"]) as api:
        again = api.patch(f"webhooks/{flaky_hook['id']}/", json={"is_active": True}).json()
        assert again["is_active"] and again["consecutive_failures"] == 0 and again["disabled_reason"] == ""
