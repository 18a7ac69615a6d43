"""Peak memory and time of the metrics export on the scale fixture (issue 15: ≤ 300 MB for 1M metrics).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_scale .venv/bin/python bench/export.py \
        [--user admin] [--query ""] [--format csv]

One export per process (peak RSS is a high-water mark), through Django's test client, the body read
chunk by chunk as a client would and counted, never kept. Prints the wall time, the rows and bytes,
the process's peak RSS and its growth over the RSS before the request (Django loaded, signed in).
``--query "project=p01"`` exports one project; the default is everything the user sees (the
superuser: all 1M metric rows, of which ≈200k are current and exported).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ledger_scale")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("LEDGER_HTTPS", "false")
os.environ.setdefault("LEDGER_THROTTLE_USER", "100000000/min")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--query", default="", help='extra filters, e.g. "project=p01"')
    ap.add_argument("--format", default="csv", choices=["csv", "xlsx"])
    args = ap.parse_args()
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.get(username=args.user))
    client.get("/api/v1/metrics/?limit=1")  # imports, first query
    before = rss_mb()
    t0 = time.perf_counter()
    response = client.get(f"/api/v1/metrics/export?format={args.format}&{args.query}")
    size = lines = 0
    chunks = response.streaming_content if response.streaming else [response.content]
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"export {args.format} as {args.user} {args.query or '(all visible)'}: status {response.status_code}, "
          f"{seconds:.1f} s wall, {lines - 1 if args.format == 'csv' else '?'} rows, {size / 1e6:.1f} MB; "
          f"peak RSS {peak:.0f} MB (+{peak - before:.0f} MB over {before:.0f} MB before the request); "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
