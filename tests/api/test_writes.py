"""Writes go through the services: plan a run, log actual values, complete it, create samples,
parents and devices, create and revise recipes. 400s name the field."""

from __future__ import annotations

import pytest

from recipes.models import RecipeVersion
from samples.models import Sample

from .conftest import error_of


@pytest.mark.django_db
def test_recipe_create_revise_and_frozen_parameter(world, client_for):
    client = client_for(world.alice)
    body = {"name": "Spin PMMA", "step_type": "spin_coating", "output_kind": "film",
            "steps": [{"name": "Spin", "action": "spin",
                       "parameters": [{"key": "speed", "name": "Speed", "nominal": 4000, "unit": "rpm"}]}]}
    response = client.post("/api/v1/recipes/", body, format="json")
    assert response.status_code == 201, response.content
    version_id = response.json()["versions"][0]["id"]
    param_id = RecipeVersion.objects.get(pk=version_id).steps.get().parameters.get().pk

    # Unfrozen: edit in place.
    response = client.patch(f"/api/v1/recipe-parameters/{param_id}/", {"nominal": 4500}, format="json")
    assert response.status_code == 200 and response.json()["nominal"] == 4500

    # A run freezes it; an edit is then refused with 409 and a revise makes v2.
    assert client.post("/api/v1/runs/", {"recipe_version": version_id, "project": "alpha"}, format="json").status_code == 201
    response = client.patch(f"/api/v1/recipe-parameters/{param_id}/", {"nominal": 5000}, format="json")
    assert response.status_code == 409
    assert "frozen" in error_of(response)["message"]
    response = client.post(f"/api/v1/recipe-versions/{version_id}/revise/",
                           {"changes": {"1.speed": {"nominal": 5000}}, "notes": "faster"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["number"] == 2
    assert response.json()["steps"][0]["parameters"][0]["nominal"] == 5000


@pytest.mark.django_db
def test_recipe_400s_name_the_field(world, client_for):
    client = client_for(world.alice)
    response = client.post("/api/v1/recipes/", {"name": "", "step_type": "nope"}, format="json")
    assert response.status_code == 400
    fields = error_of(response)["fields"]
    assert {"name", "step_type", "steps"} <= set(fields)
    version = world.dev_a.sample.produced_by.recipe_version
    response = client.post(f"/api/v1/recipe-versions/{version.pk}/revise/", {"changes": {"9.nope": {"nominal": 1}},
                                                                          "notes": "typo"}, format="json")
    assert response.status_code == 400
    assert "9.nope" in error_of(response)["message"]
    # A new version needs its reason, as on the web page.
    response = client.post(f"/api/v1/recipe-versions/{version.pk}/revise/", {"changes": {"1.speed": {"nominal": 1}}},
                           format="json")
    assert response.status_code == 400
    assert "notes" in error_of(response)["message"]
    assert not version.recipe.versions.filter(number=version.number + 1).exists()


@pytest.mark.django_db
def test_run_plan_actuals_and_complete(world, client_for):
    client = client_for(world.alice)
    version = world.dev_a.sample.produced_by.recipe_version
    response = client.post("/api/v1/runs/", {"recipe_version": version.pk, "project": "alpha",
                                             "inputs": [world.dev_a.sample.label]}, format="json")
    assert response.status_code == 201, response.content
    run = response.json()
    assert {v["key"] for v in run["values"]} == {"speed", "time", "solvent"}
    speed = next(v for v in run["values"] if v["key"] == "speed")

    response = client.patch(f"/api/v1/runs/{run['label']}/", {"values": [
        {"id": speed["id"], "actual_value": 3500, "actual_unit": "rpm"},
        {"parameter": "1.time", "actual_value": 0.5, "actual_unit": "min"},
    ]}, format="json")
    assert response.status_code == 200, response.content
    values = {v["key"]: v for v in response.json()["values"]}
    assert values["speed"]["is_deviation"] is True  # outside 2900–3100 rpm
    assert values["time"]["is_deviation"] is False  # 0.5 min = 30 s
    assert response.json()["deviation_count"] == 1

    response = client.patch(f"/api/v1/runs/{run['label']}/", {"values": [
        {"parameter": "1.speed", "actual_value": 3000}]}, format="json")
    assert response.status_code == 400
    assert "actual_unit" in error_of(response)["fields"]

    response = client.post(f"/api/v1/runs/{run['id']}/complete/", {"outputs": 2, "name": "pair"}, format="json")
    assert response.status_code == 201, response.content
    labels = [s["label"] for s in response.json()]
    assert len(labels) == 2 and all(label.startswith("DEV-") for label in labels)
    assert client.post(f"/api/v1/runs/{run['id']}/complete/", {}, format="json").status_code == 409
    # The outputs descend from the run's input.
    descendants = client.get(f"/api/v1/samples/{world.dev_a.sample.label}/descendants/").json()
    assert set(labels) <= {s["label"] for s in descendants}


@pytest.mark.django_db
def test_sample_create_parents_lineage_and_device(world, client_for):
    client = client_for(world.alice)
    response = client.post("/api/v1/samples/", {"kind": "qd_batch", "project": "alpha", "name": "batch 3"}, format="json")
    assert response.status_code == 201, response.content
    qd = response.json()["label"]
    response = client.post("/api/v1/samples/", {"kind": "device", "project": "alpha", "parents": [qd]}, format="json")
    assert response.status_code == 201
    dev = response.json()["label"]
    assert response.json()["parents"] == [{"label": qd, "kind": "qd_batch", "role": ""}]

    # A cycle is refused by the service, as a field message.
    response = client.post(f"/api/v1/samples/{qd}/parents/", {"parent": dev}, format="json")
    assert response.status_code == 400
    assert "parent" in error_of(response)["fields"]
    # Another project's sample cannot be a parent: it does not exist for alice.
    response = client.post(f"/api/v1/samples/{dev}/parents/", {"parent": world.dev_b.sample.label}, format="json")
    assert response.status_code == 400

    assert [s["label"] for s in client.get(f"/api/v1/samples/{dev}/ancestors/").json()] == [qd]
    assert [s["label"] for s in client.get(f"/api/v1/samples/{qd}/descendants/").json()] == [dev]

    response = client.post("/api/v1/devices/", {"sample": dev, "stack_name": "Stack A", "pixel_names": ["A", "B"],
                                                "pixel_area_cm2": 0.04,
                                                "layers": [{"material": "ITO", "function": "anode"}]}, format="json")
    assert response.status_code == 201, response.content
    assert [p["label"] for p in response.json()["pixels"]] == [f"{dev}-A", f"{dev}-B"]
    assert client.post("/api/v1/devices/", {"sample": dev}, format="json").status_code == 400
    response = client.post("/api/v1/devices/", {"sample": qd}, format="json")  # not a device
    assert response.status_code == 400 and "sample" in error_of(response)["fields"]
    assert Sample.objects.filter(label=dev).exists()


@pytest.mark.django_db
def test_filters_and_ordering(world, client_for):
    client = client_for(world.alice)
    kinds = {s["kind"] for s in client.get("/api/v1/samples/?kind=device").json()["results"]}
    assert kinds == {"device"}
    assert client.get("/api/v1/samples/?param=speed&param_min=3000&param_max=3100").json()["count"] == 1
    assert client.get("/api/v1/samples/?param=speed&param_min=3060").json()["count"] == 0
    assert client.get("/api/v1/metrics/?name=eqe_max&value_min=5&value_max=20").json()["count"] == 1
    assert client.get("/api/v1/metrics/?value_min=50").json()["count"] == 0
    assert client.get("/api/v1/metrics/?project=beta").json()["count"] == 0  # not alice's
    labels = [s["label"] for s in client.get("/api/v1/samples/?ordering=label").json()["results"]]
    assert labels == sorted(labels)
    response = client.get("/api/v1/samples/?created_after=notadate")
    assert response.status_code == 400
    assert "created_after" in error_of(response)["fields"]


@pytest.mark.django_db
def test_run_planned_outputs_via_api_are_what_complete_creates(world, client_for):
    """Issue 14 defect 1: outputs planned with the run; PATCHing actuals moves it to in progress,
    never to completed; complete with an empty body creates what was planned."""
    client = client_for(world.alice)
    version = world.dev_a.sample.produced_by.recipe_version
    response = client.post("/api/v1/runs/", {"recipe_version": version.pk, "project": "alpha", "outputs": 3,
                                             "output_names": ["left", "mid"], "output_location": "Shelf 4"},
                           format="json")
    assert response.status_code == 201, response.content
    run = response.json()
    assert (run["status"], run["planned_outputs"], run["planned_output_names"], run["planned_output_location"]) == (
        "planned", 3, ["left", "mid"], "Shelf 4")
    response = client.patch(f"/api/v1/runs/{run['label']}/", {"values": [
        {"parameter": "1.time", "actual_value": 0.5, "actual_unit": "min"}]}, format="json")
    assert response.json()["status"] == "in_progress" and response.json()["started_at"]
    response = client.post(f"/api/v1/runs/{run['id']}/complete/", {}, format="json")
    assert response.status_code == 201, response.content
    made = Sample.objects.filter(produced_by_id=run["id"]).order_by("id")
    assert [s.name for s in made] == ["left", "mid", ""] and {s.location for s in made} == {"Shelf 4"}
    response = client.post("/api/v1/runs/", {"recipe_version": version.pk, "project": "alpha", "outputs": 1,
                                             "output_names": ["a", "b"]}, format="json")
    assert response.status_code == 400 and "planned_output_names" in error_of(response)["fields"]
