"""Webhooks in-process: events become deliveries on commit only, for the project's active hooks
that asked for them; the API is per project and closed to instrument tokens; the backoff doubles."""

from __future__ import annotations

import pytest
from django.db import transaction

from core import events
from tests.api import factories as f
from tests.api.conftest import error_of
from webhooks import services
from webhooks.models import Delivery, Webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def no_sending(monkeypatch):
    """Deliveries are rows here; sending them is the live test's business (tests/client)."""
    monkeypatch.setattr(services, "enqueue", lambda delivery_id: None)


def test_a_completed_run_makes_one_delivery_per_interested_hook(world, no_sending):
    wants = services.webhook_create(project=world.alpha, url="http://127.0.0.1:9499/a", events=["run.completed"])
    services.webhook_create(project=world.alpha, url="http://127.0.0.1:9499/b", events=["analysis.done"])
    off = services.webhook_create(project=world.alpha, url="http://127.0.0.1:9499/c", events=["run.completed"])
    services.webhook_update(off, is_active=False)
    services.webhook_create(project=world.beta, url="http://127.0.0.1:9499/d", events=["run.completed"])
    from samples.services import run_complete, run_plan

    run = run_plan(version=f.recipe(), project=world.alpha, operator=world.alice)
    with pytest.raises(RuntimeError), transaction.atomic():
        run_complete(run)
        raise RuntimeError("rolled back")
    assert not Delivery.objects.exists()  # nothing for a completion that never happened
    run.refresh_from_db()
    (sample,) = run_complete(run)
    (d,) = Delivery.objects.all()
    assert d.webhook == wants and d.event == "run.completed" and d.status == "pending"
    assert d.payload["run"]["label"] == run.label and d.payload["outputs"][0]["label"] == sample.label
    assert d.payload["run"]["url"].endswith(f"/api/v1/runs/{run.label}/")


def test_an_analysis_event_names_the_file(world, no_sending):
    hook = services.webhook_create(project=world.alpha, url="http://127.0.0.1:9499/a", events=["analysis.failed"])
    events.emit("analysis.failed", file_id=world.file_a.pk)
    (d,) = Delivery.objects.filter(webhook=hook)
    assert d.payload["file"]["id"] == world.file_a.pk and d.payload["sample"]["label"] == world.dev_a.sample.label


def test_backoff_doubles_and_is_capped(settings):
    settings.LEDGER_WEBHOOK_BACKOFF_S, settings.LEDGER_WEBHOOK_BACKOFF_MAX_S = 30, 100
    assert [services.backoff_s(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_api_is_per_project_and_closed_to_instruments(world, client_for):
    alice, bob, station = client_for(world.alice), client_for(world.bob), client_for(world.station)
    made = alice.post("/api/v1/webhooks/", {"project": "alpha", "url": "https://bot.lab/x", "events": ["analysis.done"]},
                      format="json")
    assert made.status_code == 201 and len(made.json()["secret"]) == 64
    hook_id = made.json()["id"]
    assert "secret" not in alice.get(f"/api/v1/webhooks/{hook_id}/").json()
    assert bob.get(f"/api/v1/webhooks/{hook_id}/").status_code == 404
    assert bob.get("/api/v1/webhooks/").json()["count"] == 0
    assert error_of(bob.post("/api/v1/webhooks/", {"project": "alpha", "url": "https://x.lab", "events": ["run.completed"]},
                             format="json"))["fields"]["project"]
    assert station.post("/api/v1/webhooks/", {"project": "alpha", "url": "https://x.lab", "events": ["run.completed"]},
                        format="json").status_code == 403
    bad = alice.post("/api/v1/webhooks/", {"project": "alpha", "url": "https://x.lab", "events": ["analysis.started"]},
                     format="json")
    assert bad.status_code == 400 and "analysis.started" in error_of(bad)["message"]
    assert alice.delete(f"/api/v1/webhooks/{hook_id}/").status_code == 405
    assert Webhook.objects.count() == 1


def test_station_rules_endpoint(world, client_for):
    from django.core.exceptions import ValidationError

    from stations.services import station_rules_set

    assert client_for(world.station).get("/api/v1/instruments/me/rules/").status_code == 404
    with pytest.raises(ValidationError, match="says no target"):
        station_rules_set(account=world.station, rules_toml='[[rule]]\npattern = "*.csv"')
    station_rules_set(account=world.station, rules_toml='[[rule]]\npattern = "{sample}_*.csv"\nkind = "jlv"')
    body = client_for(world.station).get("/api/v1/instruments/me/rules/").json()
    assert body["account"] == "station" and "{sample}_*.csv" in body["rules_toml"]
