"""A large upload is hashed and stored in chunks and sniffed from its head (issue 15): bounded
memory in the web process, the same bytes and sha256 in storage."""

from __future__ import annotations

import hashlib
import tracemalloc
from unittest import mock

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from measurements import services
from measurements.services import INLINE_UPLOAD_BYTES, measurement_file_ingest


def _lifetime_log(rows: int) -> bytes:
    # A long constant-current run: L falls as exp(-t/40 h), logged every 0.36 s for 140 h.
    lines = ["time_h,luminance_cd_m2"]
    lines += [f"{i * 1e-4:.6f},{1000.0 * 2.718281828 ** (-(i * 1e-4) / 40.0):.6f}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.django_db
def test_a_large_upload_is_streamed_to_storage_in_bounded_memory(demo):
    body = _lifetime_log(1_400_000)  # ≈ 29 MB
    assert len(body) > 6 * INLINE_UPLOAD_BYTES
    digest = hashlib.sha256(body).hexdigest()
    upload = TemporaryUploadedFile("long_run.csv", "text/csv", len(body), None)
    upload.write(body)
    upload.flush()
    size = len(body)
    del body  # what the web process holds is the temporary file, not the bytes
    tracemalloc.start()
    try:
        with mock.patch.object(services, "enqueue"):  # the analysis is the worker's, not measured here
            result = measurement_file_ingest(content=upload, filename="long_run.csv", sample=demo["film"],
                                             kind="lifetime")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8e6, f"{peak / 1e6:.1f} MB held for a {size / 1e6:.0f} MB upload"
    mf = result.file
    assert result.created and (mf.kind, mf.format, mf.size_bytes, mf.sha256) == ("lifetime", "delimited_lifetime", size,
                                                                                 digest)
    with mf.file.open("rb") as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == digest
    upload.close()  # FileSystemStorage moved the temporary file into place (no copy)


@pytest.mark.django_db
def test_a_small_upload_file_is_read_as_bytes(demo, data_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = (data_dir / "public" / "pl_spectrum.txt").read_bytes()
    with mock.patch.object(services, "enqueue"):
        mf = measurement_file_ingest(content=SimpleUploadedFile("pl.txt", body), filename="pl.txt",
                                     sample=demo["film"]).file
    assert (mf.kind, mf.size_bytes, mf.sha256) == ("pl", len(body), hashlib.sha256(body).hexdigest())
