"""Backup and restore: the database and the file store, consistent with each other.

Files are content-addressed and never change or go away, so a consistent backup is "the database
at one instant + every file that instant's rows name". On PostgreSQL the list of files is read
inside a REPEATABLE READ transaction whose snapshot ``pg_dump --snapshot`` dumps, so the dump and
the list are the same instant; on SQLite the database is copied with SQLite's online backup API
and the list is read from the copy. ``manifest.json`` names every sha256 the dump needs; restore
refuses a backup whose files or dump do not match their hashes.

Layout of a backup directory::

    manifest.json          format, when, database vendor, dump file + sha256, counts, files
    db.dump | db.sqlite3   pg_dump custom format, or the SQLite copy
    files/ab/abcdef…       every stored measurement file, named by its sha256
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from measurements.models import MeasurementFile

FORMAT = 1
CHUNK = 1024 * 1024
# Rows counted into the manifest and checked again after a restore.
COUNTED_TABLES = {"samples": "samples_sample", "runs": "samples_processrun", "files": "measurements_measurementfile",
                  "metrics": "measurements_derivedmetric", "analyses": "measurements_analysis"}


class BackupError(Exception):
    """Something a person must fix; the message says what."""


def sha256_of(fileobj) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: fileobj.read(CHUNK), b""):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _file_rows_sql() -> str:
    return f"SELECT sha256, file, size_bytes FROM {MeasurementFile._meta.db_table} ORDER BY id"  # noqa: S608


def _counts(cursor) -> dict[str, int]:
    out = {}
    for name, table in COUNTED_TABLES.items():
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 — fixed table names
        out[name] = cursor.fetchone()[0]
    return out


def _pg_env(db: dict) -> dict[str, str]:
    env = {**os.environ, "PGHOST": db.get("HOST") or "127.0.0.1", "PGPORT": str(db.get("PORT") or 5432),
           "PGUSER": db.get("USER") or "postgres"}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _run(cmd: list[str], env: dict) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{cmd[0]} not found: install the PostgreSQL client (apt-get install postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _dump_postgresql(dest: Path) -> tuple[list[tuple], dict[str, int]]:
    import psycopg

    db = connection.settings_dict
    conninfo = {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432, "user": db.get("USER") or "postgres",
                "password": db.get("PASSWORD") or None, "dbname": db["NAME"]}
    with psycopg.connect(**{k: v for k, v in conninfo.items() if v is not None}) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            cur.execute(_file_rows_sql())
            rows = cur.fetchall()
            counts = _counts(cur)
            # The transaction stays open (the snapshot lives only as long) while pg_dump reads it.
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  "--file", str(dest / "db.dump"), db["NAME"]], _pg_env(db))
    return rows, counts


def _dump_sqlite(dest: Path) -> tuple[list[tuple], dict[str, int]]:
    target = sqlite3.connect(dest / "db.sqlite3")
    try:
        connection.ensure_connection()
        connection.connection.backup(target)  # SQLite's online backup: one consistent copy
        cur = target.cursor()
        cur.execute(_file_rows_sql())
        rows = cur.fetchall()
        counts = _counts(cur)
    finally:
        target.close()
    return rows, counts


def _migration_heads() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    heads: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        heads[app] = max(heads.get(app, ""), name)
    return dict(sorted(heads.items()))


def backup_create(dest: Path) -> dict:
    """Writes a backup into ``dest`` (created; must be empty) and returns its manifest."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: give a new directory for the backup")
    (dest / "files").mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    if vendor == "postgresql":
        rows, counts = _dump_postgresql(dest)
        dump = "db.dump"
    elif vendor == "sqlite":
        rows, counts = _dump_sqlite(dest)
        dump = "db.sqlite3"
    else:
        raise BackupError(f"backup supports PostgreSQL and SQLite, not {vendor}")

    files, problems = [], []
    for sha, name, size in rows:
        target = dest / "files" / sha[:2] / sha
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with default_storage.open(name, "rb") as src, open(target, "wb") as out:
                digest, copied = hashlib.sha256(), 0
                for chunk in iter(lambda: src.read(CHUNK), b""):  # noqa: B023 — src is this iteration's
                    digest.update(chunk)
                    copied += len(chunk)
                    out.write(chunk)
        except FileNotFoundError:
            problems.append(f"{name}: missing from storage")
            continue
        if digest.hexdigest() != sha or copied != size:
            problems.append(f"{name}: stored bytes hash to {digest.hexdigest()[:12]}… ({copied} B), the row says {sha[:12]}… ({size} B)")
        files.append({"sha256": sha, "name": name, "size_bytes": size})
    if problems:
        raise BackupError("the file store does not match the database (run manage.py verify_files):\n  " + "\n  ".join(problems[:20]))

    with open(dest / dump, "rb") as fh:
        dump_sha, dump_size = sha256_of(fh)
    manifest = {
        "format": FORMAT, "created_at": timezone.now().isoformat(), "ledger": "LEDger backup",
        "database": {"vendor": vendor, "dump": dump, "sha256": dump_sha, "size_bytes": dump_size},
        "migrations": _migration_heads(), "counts": counts, "files": files,
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def _database_is_empty() -> bool:
    return not [t for t in connection.introspection.table_names() if not t.startswith("sqlite_")]


def backup_restore(src: Path) -> dict:
    """Restores a backup into the configured (empty) database and storage; returns the counts found."""
    src = Path(src)
    try:
        manifest = json.loads((src / "manifest.json").read_text())
    except FileNotFoundError:
        raise BackupError(f"{src}: no manifest.json — not a LEDger backup directory") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{src}: backup format {manifest.get('format')!r}, this LEDger reads format {FORMAT}")
    db_info = manifest["database"]
    if db_info["vendor"] != connection.vendor:
        raise BackupError(f"the backup is of a {db_info['vendor']} database; DATABASE_URL points to {connection.vendor}")
    dump = src / db_info["dump"]
    with open(dump, "rb") as fh:
        if sha256_of(fh)[0] != db_info["sha256"]:
            raise BackupError(f"{dump}: does not match the sha256 in manifest.json (damaged backup)")
    # Every file first: a damaged backup fails before anything is written.
    for entry in manifest["files"]:
        path = src / "files" / entry["sha256"][:2] / entry["sha256"]
        try:
            with open(path, "rb") as fh:
                if sha256_of(fh) != (entry["sha256"], entry["size_bytes"]):
                    raise BackupError(f"{path}: its bytes do not hash to its name (damaged backup)")
        except FileNotFoundError:
            raise BackupError(f"{path}: missing from the backup (the database names it)") from None
    if not _database_is_empty():
        raise BackupError(f"database {connection.settings_dict['NAME']} is not empty: restore into a new, empty "
                          "database (createdb …) and point DATABASE_URL at it")

    if connection.vendor == "postgresql":
        connection.close()
        db = connection.settings_dict
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              "--dbname", db["NAME"], str(dump)], _pg_env(db))
    else:
        connection.close()
        shutil.copyfile(dump, connection.settings_dict["NAME"])

    for entry in manifest["files"]:
        path = src / "files" / entry["sha256"][:2] / entry["sha256"]
        name = entry["name"]
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as fh:
                if sha256_of(fh)[0] != entry["sha256"]:
                    raise BackupError(f"storage already holds {name} with other bytes: restore into empty storage")
            continue
        with open(path, "rb") as fh:
            saved = default_storage.save(name, File(fh, name=Path(name).name))
        if saved != name:
            raise BackupError(f"storage saved {name} as {saved}: restore into empty storage")

    with connection.cursor() as cursor:
        counts = _counts(cursor)
    if counts != manifest["counts"]:
        raise BackupError(f"restored rows {counts} differ from the backup's {manifest['counts']}")
    return counts


@dataclass
class FileCheck:
    checked: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)


def files_verify(rows: Iterable[MeasurementFile] | None = None) -> FileCheck:
    """Reads every stored file and compares its sha256 and size with its row."""
    report = FileCheck()
    rows = rows if rows is not None else MeasurementFile.objects.order_by("id").only("id", "file", "sha256", "size_bytes").iterator()
    for mf in rows:
        report.checked += 1
        try:
            with default_storage.open(mf.file.name, "rb") as fh:
                digest, size = sha256_of(fh)
        except FileNotFoundError:
            report.problems.append(f"file {mf.pk} ({mf.file.name}): missing from storage")
            continue
        report.bytes += size
        if digest != mf.sha256:
            report.problems.append(f"file {mf.pk} ({mf.file.name}): bytes hash to {digest}, the row says {mf.sha256}")
        elif size != mf.size_bytes:
            report.problems.append(f"file {mf.pk} ({mf.file.name}): {size} bytes, the row says {mf.size_bytes}")
    return report
