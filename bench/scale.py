"""Load the issue-15 scale fixture (a busy lab's decade) into its own PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ledger_scale .venv/bin/python bench/scale.py [--scale 1]

Creates the database if it does not exist (``--fresh`` drops it first), migrates, and bulk-loads
``portal/scale.py``'s shape with COPY. Then run ``bench/pages.py`` against the same DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ledger_scale"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--fresh", action="store_true", help="drop and re-create the database first")
    args = ap.parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("MEDIA_ROOT", str(ROOT / "var" / "scale-media"))  # the shared stored files
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/scale.py loads PostgreSQL (the fixture's COPY path); set DATABASE_URL=postgres://…")
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    psql = ["psql", admin, "-v", "ON_ERROR_STOP=1", "-qAtc"]
    if args.fresh:
        subprocess.run([*psql, f'DROP DATABASE IF EXISTS "{name}"'], check=True)
    exists = subprocess.run([*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"], check=True,
                            capture_output=True, text=True).stdout.strip()
    if not exists:
        subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True)
    manage = [sys.executable, str(ROOT / "manage.py")]
    t0 = time.perf_counter()
    subprocess.run([*manage, "migrate", "-v0"], check=True, cwd=ROOT)
    print(f"migrated in {time.perf_counter() - t0:.0f} s")
    subprocess.run([*manage, "load_scale", "--scale", str(args.scale)], check=True, cwd=ROOT)
    size = subprocess.run([*psql, f"SELECT pg_size_pretty(pg_database_size('{name}'))"], check=True,
                          capture_output=True, text=True).stdout.strip()
    print(f"database {name}: {size}")


if __name__ == "__main__":
    main()
