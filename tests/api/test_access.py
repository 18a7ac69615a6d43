"""Every endpoint for anonymous (401), another project's member (404, absent from lists), a
member (200) and an instrument token (reads like a member)."""

from __future__ import annotations

import pytest

from .conftest import error_of

LISTS = ["chemicals", "lots", "recipes", "recipe-versions", "recipe-parameters", "runs", "samples", "devices",
         "pixels", "measurements", "metrics"]
PROJECT_LISTS = ["runs", "samples", "devices", "pixels", "measurements", "metrics"]


def project_details(w) -> dict[str, str]:
    """Detail URLs of project alpha's records (by label where there is one, and by id)."""
    dev = w.dev_a
    pixel = dev.pixels.get(name="A")
    return {
        "sample by label": f"/api/v1/samples/{dev.sample.label}/",
        "sample by id": f"/api/v1/samples/{dev.sample.pk}/",
        "ancestors": f"/api/v1/samples/{dev.sample.label}/ancestors/",
        "descendants": f"/api/v1/samples/{dev.sample.label}/descendants/",
        "sample metrics": f"/api/v1/samples/{dev.sample.label}/metrics/",
        "run": f"/api/v1/runs/{dev.sample.produced_by.label}/",
        "device": f"/api/v1/devices/{dev.sample.label}/",
        "pixel": f"/api/v1/pixels/{pixel.label}/",
        "measurement": f"/api/v1/measurements/{w.file_a.pk}/",
        "metric": f"/api/v1/metrics/{dev.metrics.first().pk}/",
    }


def lab_details(w) -> list[str]:
    version = w.dev_a.sample.produced_by.recipe_version
    return [f"/api/v1/chemicals/{w.chemical.pk}/", f"/api/v1/lots/{w.chemical.lots.first().pk}/",
            f"/api/v1/recipes/{version.recipe_id}/", f"/api/v1/recipe-versions/{version.pk}/",
            f"/api/v1/recipe-parameters/{version.steps.first().parameters.first().pk}/"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", LISTS)
def test_anonymous_gets_401_in_the_error_shape(world, client_for, name):
    response = client_for(None).get(f"/api/v1/{name}/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"].startswith("Token")


@pytest.mark.django_db
def test_anonymous_details_are_401(world, client_for):
    for url in [*project_details(world).values(), *lab_details(world), "/api/v1/metrics/export?format=csv"]:
        response = client_for(None).get(url)
        assert response.status_code == 401, url
        error_of(response)


@pytest.mark.django_db
def test_revoked_or_wrong_token_is_401(world, client_for):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/v1/samples/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "station"])
@pytest.mark.parametrize("name", LISTS)
def test_member_and_instrument_list(world, client_for, who, name):
    response = client_for(getattr(world, who)).get(f"/api/v1/{name}/")
    assert response.status_code == 200
    assert response.json()["count"] >= 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", PROJECT_LISTS)
def test_other_project_records_are_not_in_lists(world, client_for, name):
    ours = client_for(world.alice).get(f"/api/v1/{name}/").json()["results"]
    theirs = client_for(world.bob).get(f"/api/v1/{name}/").json()["results"]
    assert not {r["id"] for r in ours} & {r["id"] for r in theirs}
    text = str(theirs)
    assert world.dev_a.sample.label not in text


@pytest.mark.django_db
def test_details_member_instrument_and_other_project(world, client_for):
    for what, url in project_details(world).items():
        for account in (world.alice, world.station):
            assert client_for(account).get(url).status_code == 200, (what, account)
        response = client_for(world.bob).get(url)
        assert response.status_code == 404, what
        assert error_of(response)["code"] == "not_found"


@pytest.mark.django_db
def test_lab_wide_records_are_readable_by_everyone_signed_in(world, client_for):
    for url in lab_details(world):
        for account in (world.alice, world.bob, world.station):
            assert client_for(account).get(url).status_code == 200, url


@pytest.mark.django_db
def test_superuser_sees_every_project(world, client_for):
    from django.contrib.auth import get_user_model

    boss = get_user_model().objects.create_superuser("boss", password="x")
    labels = {r["label"] for r in client_for(boss).get("/api/v1/samples/").json()["results"]}
    assert {world.dev_a.sample.label, world.dev_b.sample.label} <= labels


@pytest.mark.django_db
def test_unknown_path_and_delete_use_the_error_shape(world, client_for):
    client = client_for(world.alice)
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    error_of(response)
    response = client.delete(f"/api/v1/samples/{world.dev_a.sample.label}/")
    assert response.status_code == 405  # never hard-deleted
    assert error_of(response)["code"] == "method_not_allowed"
