"""The traveller and label PDFs are reachable at the documented /api/v1/ paths."""

import pytest

from .conftest import error_of

pytestmark = pytest.mark.django_db


def test_sample_traveller_and_labels_under_api_v1(world, client_for):
    label = world.dev_a.sample.label
    ok = client_for(world.alice).get(f"/api/v1/samples/{label}/traveller.pdf")
    assert ok.status_code == 200 and ok["Content-Type"] == "application/pdf"
    assert ok.content.startswith(b"%PDF") and f"{label}-traveller.pdf" in ok["Content-Disposition"]
    labels = client_for(world.alice).get(f"/api/v1/labels.pdf?samples={label}&layout=roll-62mm")
    assert labels.status_code == 200 and labels.content.startswith(b"%PDF")
    # Another project's sample does not exist for bob; anonymous must log in.
    assert client_for(world.bob).get(f"/api/v1/samples/{label}/traveller.pdf").status_code == 404
    anonymous = client_for(None).get(f"/api/v1/samples/{label}/traveller.pdf")
    assert anonymous.status_code == 401 and error_of(anonymous)["code"]


def test_run_traveller_route(demo, client):
    client.force_login(demo["user"])
    run = demo["film"].produced_by
    response = client.get(f"/api/v1/runs/{run.pk}/traveller.pdf?pagesize=Letter")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
