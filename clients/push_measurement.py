#!/usr/bin/env python3
"""Push one measurement file to LEDger and print its metrics when the analysis is done.

Standard library only, so it runs on any instrument PC with Python 3.8+:

    python push_measurement.py --url http://ledger.lab:8000 --token 0123abcd… \\
        --sample DEV-0001-A jlv_sweep.csv [--kind jlv] [--instrument "J-L-V rig 1"]

Safe to run again after a timeout: the upload carries an Idempotency-Key derived from the file
and the sample, and the server answers the same bytes for the same sample with the existing
record. Exit status: 0 done, 1 analysis failed, 2 refused or unreachable.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

RETRY_STATUS = {429, 500, 502, 503, 504}


def multipart(fields: dict[str, str], file_field: str, path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{path.name}"\r\n'
                 f"Content-Type: {ctype}\r\n\r\n".encode() + path.read_bytes() + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def request(method: str, url: str, token: str, *, body: bytes | None = None, headers: dict | None = None,
            retries: int = 5, timeout: float = 60) -> tuple[int, dict]:
    """JSON request with retries on network errors, 429 and 5xx (exponential backoff)."""
    all_headers = {"Authorization": f"Token {token}", "Accept": "application/json", **(headers or {})}
    for attempt in range(retries + 1):
        req = urllib.request.Request(url, data=body, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            if exc.code not in RETRY_STATUS or attempt == retries:
                try:
                    return exc.code, json.loads(exc.read() or b"{}")
                except ValueError:
                    return exc.code, {"error": {"message": exc.reason}}
            wait = float(exc.headers.get("Retry-After") or 2 ** attempt)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == retries:
                raise SystemExit(f"cannot reach {url}: {exc}")
            wait = 2 ** attempt
        print(f"retrying in {wait:.0f} s …", file=sys.stderr)
        time.sleep(min(wait, 60))
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", required=True, help="LEDger base URL, e.g. http://ledger.lab:8000")
    parser.add_argument("--token", required=True, help="API token (manage.py issue_token NAME --instrument)")
    parser.add_argument("--sample", required=True, help="Sample or pixel label, e.g. DEV-0001-A")
    parser.add_argument("--kind", default="", help="jlv, el, pl, … (sniffed when left out)")
    parser.add_argument("--instrument", default="", help="Instrument name or id")
    parser.add_argument("--measured-at", default="", help="ISO 8601 time of the measurement")
    parser.add_argument("--metadata", default="{}", help="JSON object stored with the file")
    parser.add_argument("--timeout", type=float, default=600, help="Seconds to wait for the analysis")
    args = parser.parse_args(argv)

    fields = {"sample": args.sample, "metadata": args.metadata}
    for name, value in (("kind", args.kind), ("instrument", args.instrument), ("measured_at", args.measured_at)):
        if value:
            fields[name] = value
    body, ctype = multipart(fields, "file", args.file)
    key = hashlib.sha256(args.sample.encode() + b"\0" + body[body.index(b"\r\n\r\n"):]).hexdigest()[:40]
    status, data = request("POST", f"{args.url.rstrip('/')}/api/v1/measurements/", args.token, body=body,
                           headers={"Content-Type": ctype, "Idempotency-Key": key})
    if status not in (200, 201):
        error = data.get("error", data)
        print(f"refused ({status}): {error.get('message', error)}", file=sys.stderr)
        for field, messages in (error.get("fields") or {}).items():
            print(f"  {field}: {' '.join(messages)}", file=sys.stderr)
        return 2
    print(f"{'uploaded' if status == 201 else 'already uploaded'}: file {data['id']} sha256 {data['sha256'][:12]}… "
          f"({data['kind']}, {data['status']})")

    deadline, delay = time.monotonic() + args.timeout, 1.0
    while data["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 1.5, 15)
        status, data = request("GET", data["url"], args.token)
    if data["status"] == "failed":
        print(f"analysis failed: {data['failure_reason']}", file=sys.stderr)
        return 1
    if data["status"] in ("queued", "running"):
        print(f"still {data['status']} after {args.timeout:.0f} s; poll {data['url']}", file=sys.stderr)
        return 2
    if (data.get("metadata") or {}).get("waiting_for"):
        print(f"stored; waiting for {data['metadata']['waiting_for']}")
    for m in data.get("metrics", []):
        if not m["superseded"]:
            where = m["pixel"] or m["device"] or m["sample"]
            print(f"{m['name']:<28} {m['value']:>12.6g} {m['unit']:<8} {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
