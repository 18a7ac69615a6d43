"""Upload retries and refusals: same bytes → 200 same record, Idempotency-Key, 409, 413, 415, 400."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from measurements.models import MeasurementFile

from .conftest import error_of

CSV = b"time_h,luminance_cd_m2\n0,1000\n1,900\n2,800\n"


def post(client, content=CSV, name="l.csv", headers=None, **fields):
    data = {"file": SimpleUploadedFile(name, content), "kind": "other", **fields}
    return client.post("/api/v1/measurements/", data, format="multipart", headers=headers or {})


@pytest.mark.django_db
def test_same_bytes_same_target_is_200_with_the_existing_record(world, client_for):
    client = client_for(world.station)
    first = post(client, sample=world.dev_a.sample.label)
    assert first.status_code == 201, first.content
    again = post(client, sample=world.dev_a.sample.label)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert MeasurementFile.objects.filter(sha256=first.json()["sha256"]).count() == 1
    # The same bytes for another target are a conflict, not a silent re-label.
    other = post(client, sample=world.dev_a.pixels.get(name="B").label)
    assert other.status_code == 409
    assert "file" in error_of(other)["fields"]


@pytest.mark.django_db
def test_idempotency_key_replays_the_first_answer(world, client_for):
    client = client_for(world.station)
    key = {"Idempotency-Key": "station-42-upload-7"}
    first = post(client, sample=world.dev_a.sample.label, headers=key)
    assert first.status_code == 201
    # A retry with the same key (even if the body got mangled on the way) returns the same record.
    retry = post(client, content=b"different", sample=world.dev_a.sample.label, headers=key)
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    # Keys are per user: alice's identical key is her own.
    mine = post(client_for(world.alice), content=CSV + b"3,700\n", sample=world.dev_a.sample.label, headers=key)
    assert mine.status_code == 201 and mine.json()["id"] != first.json()["id"]


@pytest.mark.django_db
def test_over_the_limit_is_413(world, client_for, settings):
    settings.LEDGER_MAX_UPLOAD_BYTES = 16
    response = post(client_for(world.station), sample=world.dev_a.sample.label)
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


@pytest.mark.django_db
def test_binary_junk_is_415(world, client_for):
    junk = bytes(range(256)) * 8
    response = client_for(world.station).post(
        "/api/v1/measurements/", {"file": SimpleUploadedFile("x.bin", junk), "sample": world.dev_a.sample.label},
        format="multipart")
    assert response.status_code == 415
    error = error_of(response)
    assert error["code"] == "unsupported_media" and "file" in error["fields"]


@pytest.mark.django_db
def test_json_body_is_415(world, client_for):
    response = client_for(world.station).post("/api/v1/measurements/", {"sample": "x"}, format="json")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_bad_fields_are_400_with_messages(world, client_for):
    client = client_for(world.station)
    response = client.post("/api/v1/measurements/", {"kind": "nonsense", "measured_at": "yesterday",
                                                     "metadata": "{not json"}, format="multipart")
    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert {"file", "sample", "kind", "measured_at", "metadata"} <= set(fields)

    response = post(client, sample="DEV-9999")
    assert response.status_code == 400
    assert "DEV-9999" in error_of(response)["fields"]["sample"][0]
    response = post(client, sample=world.dev_a.sample.label, instrument="No such rig")
    assert "instrument" in error_of(response)["fields"]
    response = post(client, content=b"", sample=world.dev_a.sample.label)
    assert response.status_code == 400 and "file" in error_of(response)["fields"]


@pytest.mark.django_db
def test_another_projects_label_reads_as_unknown(world, client_for):
    response = post(client_for(world.station), sample=world.dev_b.sample.label)
    assert response.status_code == 400
    assert error_of(response)["fields"]["sample"] == [f"no sample or pixel labelled {world.dev_b.sample.label!r}"]
    assert not MeasurementFile.objects.filter(sample=world.dev_b.sample).exists()
    # The very answer a label that exists nowhere gets: same status, code and message shape.
    missing = post(client_for(world.station), sample="DEV-9999")
    assert (missing.status_code, error_of(missing)["code"]) == (400, error_of(response)["code"])
    assert error_of(missing)["fields"]["sample"] == ["no sample or pixel labelled 'DEV-9999'"]
    # A pixel label of the other project too.
    pixel = world.dev_b.pixels.first()
    hidden = post(client_for(world.station), sample=pixel.label)
    assert error_of(hidden) == {**error_of(missing), "message": error_of(hidden)["message"],
                                "fields": {"sample": [f"no sample or pixel labelled {pixel.label!r}"]}}
