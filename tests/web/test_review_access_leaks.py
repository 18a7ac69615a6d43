"""Review regressions for the HTML pages: filter choice lists name only the user's projects, and
the upload poll answers ids past the integer range instead of crashing."""

from __future__ import annotations

import pytest

from samples.services import run_plan

from .conftest import make_file

HUGE = "99999999999999999999999"


@pytest.mark.django_db
def test_status_poll_ignores_ids_past_the_integer_range(client_in, lineage):
    mine = make_file(lineage["dev"])
    response = client_in.get("/measurements/status/", {"ids": f"{mine.pk},{HUGE}"})
    assert response.status_code == 200
    assert [f["id"] for f in response.json()["files"]] == [mine.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/samples/", "/samples/runs/"])
def test_list_filters_do_not_name_other_projects(client_in, project, other_project, version, url):
    run_plan(version=version, project=other_project)
    page = client_in.get(url).content.decode()
    assert project.code in page
    assert other_project.code not in page and other_project.name not in page


@pytest.mark.django_db
def test_run_list_filter_by_own_project_still_works(client_in, project, version):
    run = run_plan(version=version, project=project)
    page = client_in.get("/samples/runs/", {"project": project.code}).content.decode()
    assert run.label in page
