"""Upload a file of tests/data/real-world/ through the ingest service (the pipeline tests' one way in)."""

from __future__ import annotations

from measurements.services import measurement_file_ingest


def upload(data_dir, name, target, **kw):
    content = (data_dir / "real-world" / name).read_bytes()
    mf = measurement_file_ingest(content=content, filename=name, sample=target, **kw).file
    mf.refresh_from_db()
    return mf
