"""manage.py backup → restore into an empty database and empty storage: every row of every table
and every stored file comes back byte for byte; a damaged backup or a non-empty target is refused.
Runs on the suite's database: SQLite by default, PostgreSQL (pg_dump/pg_restore) with DATABASE_URL."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from measurements.models import Analysis, DerivedMetric, FileStatus, MeasurementFile
from measurements.services import measurement_file_ingest, plot_image
from samples.models import ProcessRun, Sample

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lab(demo, data_dir):
    """The demo lab with analysed files: a J-L-V + EL pair on a pixel, a PL spectrum on the film."""
    pixel = demo["devices"]["QD-in-matrix LED, stack A"].pixels.get(name="A")
    for name in ("jlv_sweep.csv", "el_spectrum.txt"):
        measurement_file_ingest(content=(data_dir / "public" / name).read_bytes(), filename=name,
                                sample=pixel.device.sample, pixel=pixel)
    assert set(MeasurementFile.objects.values_list("status", flat=True)) == {FileStatus.DONE}
    assert DerivedMetric.objects.filter(name="eqe_max").exists()
    # A figure someone downloaded: its PNG/SVG are drawn on that first request and kept in a Plot
    # row, which a backup must carry like any other row.
    analysis = Analysis.objects.filter(kind="jlv", superseded=False).first()
    plot_image(analysis, analysis.result["charts"][0]["name"], "png")
    return demo


@pytest.fixture
def target(tmp_path):
    """An empty database of the suite's kind and an empty media folder, as environment variables."""
    media = tmp_path / "restored-media"
    if connection.vendor == "sqlite":
        yield {"DATABASE_URL": f"sqlite:///{tmp_path / 'restored.sqlite3'}", "MEDIA_ROOT": str(media)}
        return
    import psycopg

    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    admin = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"] or "postgres",
             "dbname": "postgres", "autocommit": True}
    if db.get("PASSWORD"):
        admin["password"] = db["PASSWORD"]
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    yield {"DATABASE_URL": f"postgres://{admin['user']}{password}@{admin['host']}:{admin['port']}/{name}",
           "MEDIA_ROOT": str(media), "_name": name, "_admin": admin}
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*args, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**clean, **{k: v for k, v in env.items() if not k.startswith("_")}})


def _plain(value):
    """The same value whichever driver read it (Django's cursor and a bare psycopg one name UTC differently)."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    return value


def all_rows(cursor, tables) -> dict[str, list[tuple]]:
    out = {}
    for table in tables:
        cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608 — names from introspection
        rows = [tuple(_plain(v) for v in row) for row in cursor.fetchall()]
        out[table] = sorted(rows, key=repr)  # ORDER BY 1 leaves ties (m2m, history) in any order
    return out


def target_rows(target: dict, tables) -> dict[str, list[tuple]]:
    if connection.vendor == "sqlite":
        conn = sqlite3.connect(target["DATABASE_URL"][len("sqlite:///"):], detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)
        try:
            return all_rows(conn.cursor(), tables)
        finally:
            conn.close()
    import psycopg
    from psycopg.types.string import TextLoader

    with psycopg.connect(**{**target["_admin"], "dbname": target["_name"]}) as conn:
        conn.adapters.register_loader("jsonb", TextLoader)  # JSON as stored text, as Django's cursor reads it
        with conn.cursor() as cursor:
            return all_rows(cursor, tables)


def test_backup_restores_every_row_and_file_byte_for_byte(lab, target, tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    manifest = json.loads((backup / "manifest.json").read_text())
    files = list(MeasurementFile.objects.order_by("id"))
    assert {f["sha256"] for f in manifest["files"]} == {mf.sha256 for mf in files}  # the dump names every file
    assert manifest["counts"]["samples"] == Sample.objects.count() > 10
    assert manifest["counts"]["runs"] == ProcessRun.objects.count() > 3

    done = manage("restore", str(backup), env=target)
    assert done.returncode == 0, done.stderr
    assert "restored from" in done.stdout

    # Every table, every row, every column: the same values in the restored database.
    tables = [t for t in connection.introspection.table_names() if not t.startswith("sqlite_")]
    with connection.cursor() as cursor:
        before = all_rows(cursor, tables)
    after = target_rows(target, tables)
    for table in ("samples_sample", "samples_processrun", "measurements_measurementfile", "measurements_derivedmetric",
                  "measurements_analysis", "measurements_plot"):
        assert before[table], f"{table} is empty: the test would prove nothing"
    assert after == before

    # Every stored file, byte for byte, in the new storage; verify_files agrees.
    media = Path(target["MEDIA_ROOT"])
    for mf in files:
        with default_storage.open(mf.file.name, "rb") as original:
            assert (media / mf.file.name).read_bytes() == original.read()
    check = manage("verify_files", "--json", env=target)
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout) == {"checked": len(files), "bytes": sum(mf.size_bytes for mf in files), "problems": []}

    # Restoring again: the database is no longer empty.
    again = manage("restore", str(backup), env=target)
    assert again.returncode != 0 and "is not empty" in again.stderr


def test_damaged_backup_is_refused_before_anything_is_written(lab, target, tmp_path):
    backup = tmp_path / "backup"
    call_command("backup", str(backup))
    entry = json.loads((backup / "manifest.json").read_text())["files"][0]
    damaged = backup / "files" / entry["sha256"][:2] / entry["sha256"]
    data = bytearray(damaged.read_bytes())
    data[0] ^= 0x01
    damaged.write_bytes(bytes(data))
    done = manage("restore", str(backup), env=target)
    assert done.returncode != 0
    assert "do not hash to its name" in done.stderr
    assert not Path(target["MEDIA_ROOT"]).exists()


def test_verify_files_finds_a_changed_and_a_missing_file(lab, settings):
    first, second = MeasurementFile.objects.order_by("id")[:2]
    path = Path(settings.MEDIA_ROOT) / first.file.name
    path.write_bytes(path.read_bytes() + b"\n")
    (Path(settings.MEDIA_ROOT) / second.file.name).unlink()
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="2 of 2 stored files"):
        call_command("verify_files")
