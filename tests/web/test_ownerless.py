"""Issue 14 defect 7: a sample without an owner, or a run without an operator (a user deleted, an
import), is shown with "—" rather than a 500."""

import pytest
from django.urls import reverse

from samples.services import run_complete, run_plan, sample_create

pytestmark = pytest.mark.django_db


def test_ownerless_sample_and_operatorless_run_render(client_in, version, project):
    run = run_plan(version=version, project=project, operator=None)
    (film,) = run_complete(run, owner=None)
    loose = sample_create(kind="substrate", project=project, owner=None)
    assert film.owner is None and run.operator is None
    for url in (reverse("sample-detail", args=[film.label]), reverse("sample-detail", args=[loose.label]),
                reverse("run-detail", args=[run.pk]), reverse("sample-list"), reverse("run-list"),
                reverse("run-complete", args=[run_plan(version=version, project=project).pk])):
        response = client_in.get(url)
        assert response.status_code == 200, url
    page = client_in.get(reverse("sample-detail", args=[film.label])).content.decode()
    assert "<dt>Owner</dt><dd>—</dd>" in page
    page = client_in.get(reverse("run-detail", args=[run.pk])).content.decode()
    assert "<dt>Operator</dt><dd>—</dd>" in page
    assert client_in.get(f"/api/v1/runs/{run.pk}/traveller.pdf").status_code == 200
