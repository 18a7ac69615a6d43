"""Instrument tokens upload and read; every other write is 403 with the error shape."""

from __future__ import annotations

import pytest

from .conftest import error_of


def writes(w) -> list[tuple[str, str, dict]]:
    dev = w.dev_a
    run = dev.sample.produced_by
    version = run.recipe_version
    return [
        ("post", "/api/v1/chemicals/", {"name": "Toluene"}),
        ("post", "/api/v1/recipes/", {"name": "x", "step_type": "spin_coating", "steps": [{"name": "s"}]}),
        ("post", f"/api/v1/recipe-versions/{version.pk}/revise/", {"changes": {"1.speed": {"nominal": 3100}}}),
        ("patch", f"/api/v1/recipe-parameters/{version.steps.first().parameters.first().pk}/", {"nominal": 1}),
        ("post", "/api/v1/runs/", {"recipe_version": version.pk, "project": "alpha"}),
        ("patch", f"/api/v1/runs/{run.label}/", {"values": [{"parameter": "1.time", "actual_value": 31, "actual_unit": "s"}]}),
        ("post", f"/api/v1/runs/{run.label}/complete/", {}),
        ("post", "/api/v1/samples/", {"kind": "film", "project": "alpha"}),
        ("post", f"/api/v1/samples/{dev.sample.label}/parents/", {"parent": dev.sample.label}),
        ("post", "/api/v1/devices/", {"sample": dev.sample.label}),
    ]


@pytest.mark.django_db
def test_instrument_cannot_write_other_records(world, client_for):
    client = client_for(world.station)
    for method, url, body in writes(world):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url, response.content)
        assert error_of(response)["code"] == "permission_denied"


@pytest.mark.django_db
def test_instrument_can_upload(world, client_for, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.station).post(
            "/api/v1/measurements/", {"file": upload, "sample": world.dev_a.sample.label, "kind": "image",
                                      "instrument": world.instrument.name}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["instrument"] == world.instrument.name


@pytest.mark.django_db
def test_other_project_member_cannot_write_into_a_project(world, client_for):
    """bob is not in alpha: alpha's records are 404 to him and alpha's labels are unknown."""
    client = client_for(world.bob)
    run = world.dev_a.sample.produced_by
    assert client.post(f"/api/v1/runs/{run.label}/complete/", {}, format="json").status_code == 404
    response = client.post("/api/v1/samples/", {"kind": "film", "project": "alpha"}, format="json")
    assert response.status_code == 400
    assert "project" in error_of(response)["fields"]
