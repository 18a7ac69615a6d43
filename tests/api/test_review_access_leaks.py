"""Review regressions: nothing names another project's records, and ids past the database's
integer range are a 404, not a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from measurements.models import MeasurementFile

from .conftest import error_of

HUGE = "99999999999999999999999"  # past BigAutoField: the driver overflows on pk__in


def post(client, content, sample):
    data = {"file": SimpleUploadedFile("mine.csv", content), "kind": "other", "sample": sample}
    return client.post("/api/v1/measurements/", data, format="multipart")


@pytest.mark.django_db
def test_same_bytes_as_another_projects_file_do_not_name_it(world, client_for):
    bytes_of_b = b"bob's private notes\n"
    theirs = post(client_for(world.bob), bytes_of_b, world.dev_b.sample.label)
    assert theirs.status_code == 201, theirs.content
    mine = post(client_for(world.alice), bytes_of_b, world.dev_a.sample.label)
    assert mine.status_code == 409
    message = error_of(mine)["message"]
    assert world.dev_b.sample.label not in message and "mine.csv" in message
    assert str(theirs.json()["id"]) not in message
    assert MeasurementFile.objects.filter(sample=world.dev_a.sample, original_name="mine.csv").count() == 0


@pytest.mark.django_db
def test_same_bytes_in_own_project_still_name_the_first_upload(world, client_for):
    client = client_for(world.alice)
    assert post(client, b"alice notes\n", world.dev_a.sample.label).status_code == 201
    again = post(client, b"alice notes\n", world.dev_a.pixels.get(name="B").label)
    assert again.status_code == 409
    assert world.dev_a.sample.label in error_of(again)["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/samples/", "/api/v1/runs/"])
def test_another_projects_code_filters_like_an_unknown_one(world, client_for, path):
    client = client_for(world.alice)
    unknown = client.get(path, {"project": "no-such-project"})
    foreign = client.get(path, {"project": world.beta.code})
    assert unknown.status_code == foreign.status_code == 400
    assert client.get(path, {"project": world.alpha.code}).status_code == 200


@pytest.mark.django_db
def test_batch_travellers_with_an_out_of_range_id_is_404(world, client_for):
    response = client_for(world.alice).get("/api/v1/travellers.pdf", {"runs": HUGE})
    assert response.status_code == 404
    assert HUGE in error_of(response)["message"]
