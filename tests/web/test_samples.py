import csv
import io

import pytest
from django.urls import reverse

from samples.models import Sample
from samples.services import sample_create

from .conftest import make_charted, make_file, make_plot

pytestmark = pytest.mark.django_db


def test_sample_detail_lineage_svg_has_ancestors_and_descendants(client_in, lineage):
    page = client_in.get(reverse("sample-detail", args=[lineage["film"].label])).content.decode()
    svg = page.split('id="lineage"')[1].split("</svg>")[0]
    for key in ("qd", "ink", "film", "dev"):
        assert lineage[key].label in svg
    assert f'href="{reverse("sample-detail", args=[lineage["qd"].label])}"' in svg
    assert svg.count("<path") >= 3  # the three links


def test_lineage_hides_other_projects_ancestors(client_in, lineage, other_project):
    from samples.services import sample_add_parent

    secret = sample_create(kind="qd_batch", project=other_project)
    sample_add_parent(lineage["qd"], secret)
    page = client_in.get(reverse("sample-detail", args=[lineage["film"].label])).content.decode()
    assert secret.label not in page


def test_sample_detail_sections(client_in, lineage, run_with_deviation, user):
    film = run_with_deviation.outputs.get()
    make_file(film, status="failed", reason="no EL spectrum in file", name="el.txt")
    charted = make_charted(film)
    legacy = make_plot(film)  # stored before charts: its figure row is shown as an image
    make_plot(film, svg="<svg><text>OLD superseded plot</text></svg>", superseded=True)
    page = client_in.get(reverse("sample-detail", args=[film.label])).content.decode()
    assert run_with_deviation.label in page and "1 deviation" in page  # process history
    assert "no EL spectrum in file" in page and "badge-failed" in page
    # Charts are data for static/js/charts.js, never an inlined SVG; the superseded one is absent.
    assert f'id="charts-{charted.pk}"' in page and "EQE marker chart" in page and "js/charts.js" in page
    assert reverse("analysis-figure", args=[legacy.analysis_id, legacy.name, "svg"]) in page
    assert "EQE plot marker" not in page and "OLD superseded plot" not in page
    assert f"/api/v1/samples/{film.label}/traveller.pdf" in page
    assert f"/measurements/upload/?target={film.label}" in page or f"?target={film.label}" in page
    assert "Created" in page.split('id="audit"')[1]


def test_audit_history_shows_change(client_in, lineage, user):
    film = lineage["film"]
    film.location = "Glovebox 2, shelf B"
    film._history_user = user
    film.save()
    audit = client_in.get(reverse("sample-detail", args=[film.label])).content.decode().split('id="audit"')[1]
    assert "location" in audit and "Glovebox 2, shelf B" in audit and "alice" in audit


def test_other_projects_sample_is_404(client_in, other_project):
    hidden = sample_create(kind="film", project=other_project)
    assert client_in.get(reverse("sample-detail", args=[hidden.label])).status_code == 404


def test_sample_list_filters_and_hides_other_projects(client_in, lineage, other_project):
    hidden = sample_create(kind="film", project=other_project)
    page = client_in.get(reverse("sample-list"), {"kind": "film"}).content.decode()
    assert lineage["film"].label in page and lineage["qd"].label not in page and hidden.label not in page


def test_sample_list_metric_range_filter(client_in, device, lineage):
    page = client_in.get(reverse("sample-list"), {"metric": "eqe_max", "metric_min": 15}).content.decode()
    table = page.split('id="sample-table"')[1]
    assert lineage["dev"].label in table and lineage["film"].label not in table


def test_sample_list_csv_export(client_in, lineage, run_with_deviation):
    response = client_in.get(reverse("sample-list"), {"kind": "film", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # a UTF-8 BOM: Excel then reads FILM-…, µL, ₂ right
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    labels = {r["label"] for r in rows}
    assert lineage["film"].label in labels and lineage["qd"].label not in labels
    made = next(r for r in rows if r["run"] == run_with_deviation.label)
    assert made["recipe"] == "QD-in-matrix film"


def test_sample_list_paginates_with_bounded_queries(client_in, project, run_with_deviation, user, django_assert_max_num_queries):
    for _ in range(60):
        sample_create(kind="film", project=project, owner=user, produced_by=run_with_deviation)
    assert Sample.objects.count() > 50
    with django_assert_max_num_queries(8):
        first = client_in.get(reverse("sample-list"))
    with django_assert_max_num_queries(8):
        client_in.get(reverse("sample-list"), {"page": 3})
    assert first.content.decode().count("<tr>") == 25 + 1
    assert "Page 1 of 3" in first.content.decode()


def test_sample_edit_page_changes_name_location_status_notes_with_history(client_in, lineage, other_project, version):
    ink = lineage["ink"]
    url = reverse("sample-edit", args=[ink.label])
    assert f'href="{url}"' in client_in.get(ink.get_absolute_url()).content.decode()
    page = client_in.get(url).content.decode()
    assert 'name="status"' in page and 'value="Used up"' not in page
    response = client_in.post(url, {"name": "Ink batch 7", "location": "Fridge B", "status": "consumed", "notes": "empty vial"})
    assert response.status_code == 302
    ink.refresh_from_db()
    assert (ink.name, ink.location, ink.status, ink.notes) == ("Ink batch 7", "Fridge B", "consumed", "empty vial")
    assert ink.history.first().location == "Fridge B" and ink.history.all()[1].location == ""
    # Used up: no longer offered as an input of a new run.
    from samples.forms import RunForm, rows_from_version

    form = RunForm(version=version, user=ink.owner, rows=rows_from_version(version))
    assert ink not in form.fields["inputs"].queryset and lineage["qd"] in form.fields["inputs"].queryset
    response = client_in.post(url, {"name": "x", "location": "", "status": "nonsense", "notes": ""})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    hidden = sample_create(kind="film", project=other_project)
    assert client_in.get(reverse("sample-edit", args=[hidden.label])).status_code == 404
