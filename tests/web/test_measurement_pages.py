"""Measurement pages through Django's test client: upload (XHR JSON and plain form), status
polling, detail, list, compare — and that other projects' files stay invisible."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from measurements.analysis import charts
from measurements.models import Analysis, MeasurementFile
from samples.models import Project
from tests.browser.scenario import DATA, PASSWORD, build_lab

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}
_capture = None


@pytest.fixture
def lab():
    return build_lab(measure_device_2=False)


@pytest.fixture
def measured_lab(django_capture_on_commit_callbacks):
    # Analyses are the slow part, so only these tests get device 2's analysed J-L-V + EL pair.
    # The test transaction never commits: the on-commit analysis tasks are run by hand.
    with django_capture_on_commit_callbacks(execute=True):
        return build_lab()


@pytest.fixture(autouse=True)
def _run_on_commit(request):
    global _capture
    _capture = request.getfixturevalue("django_capture_on_commit_callbacks")


@pytest.fixture
def client_in(client, lab):
    client.login(username=lab["user"].username, password=PASSWORD)
    return client


@pytest.fixture
def client_in_measured(client, measured_lab):
    client.login(username=measured_lab["user"].username, password=PASSWORD)
    return client


def _post_file(client, target, name, content=None, **extra):
    content = (DATA / name).read_bytes() if content is None else content
    data = {"target": target, "file": SimpleUploadedFile(name, content), **extra}
    with _capture(execute=True):
        return client.post(reverse("measurement-upload"), data, **JSON)


def test_upload_page_prefills_target(client_in):
    response = client_in.get(reverse("measurement-upload") + "?target=DEV-0001-A")
    assert response.status_code == 200
    assert 'value="DEV-0001-A"' in response.content.decode()


def test_jlv_then_el_on_a_pixel_gives_eqe_max(client_in, lab):
    pixel = lab["devices"][0].device.pixels.get(name="A").label
    first = _post_file(client_in, pixel, "jlv_sweep.csv")
    assert first.status_code == 201, first.content
    jlv_id = first.json()["id"]
    status = client_in.get(reverse("measurement-status"), {"ids": str(jlv_id)}).json()["files"][0]
    # Eager tasks: the sweep is read already, and waits for its spectrum without settling.
    assert status["status"] == "done" and "EL spectrum" in status["waiting_for"] and not status["settled"]
    second = _post_file(client_in, pixel, "el_spectrum.txt")
    assert second.status_code == 201
    body = client_in.get(reverse("measurement-status"), {"ids": f"{jlv_id},{second.json()['id']}"}).json()
    for f in body["files"]:
        assert f["settled"] and f["status"] == "done"
        assert f["metrics"]["eqe_max"]["value"] == pytest.approx(18.0, abs=0.3)
        assert f["metrics"]["eqe_max"]["unit"] == "%"
        # The result's charts come as data for static/js/charts.js, not as an SVG.
        assert 'data-charts="charts-' in f["html"] and "<svg" not in f["html"] and "eqe_max" in f["html"]
        assert f["n_charts"] == 5


def test_unknown_format_is_refused_with_the_reason(client_in, lab):
    response = _post_file(client_in, lab["devices"][0].label, "notes.bin", content=b"\x00\x01garbage\xff" * 20)
    assert response.status_code == 415
    assert response.json()["error"]
    assert not MeasurementFile.objects.exists() or not MeasurementFile.objects.filter(original_name="notes.bin").exists()


def test_same_bytes_on_another_target_is_a_conflict(client_in_measured, measured_lab):
    dev1, dev2 = measured_lab["devices"]
    content = (DATA / "jlv_sweep.csv").read_bytes() + b"\n"  # the bytes scenario put on device 2
    response = _post_file(client_in_measured, dev1.device.pixels.get(name="B").label, "jlv_sweep.csv", content=content)
    assert response.status_code == 409
    assert dev2.device.pixels.get(name="A").label in response.json()["error"]


def test_unknown_target_and_bad_parameters_are_field_errors(client_in, lab):
    response = _post_file(client_in, "DEV-9999", "jlv_sweep.csv")
    assert response.status_code == 400 and "DEV-9999" in response.json()["fields"]["target"][0]
    response = _post_file(client_in, lab["devices"][0].label, "jlv_sweep.csv", kind="jlv", parameters="nonsense = 3")
    assert response.status_code == 400 and "nonsense" in response.json()["fields"]["parameters"][0]


def test_plain_form_fallback_renders_rows(client_in, lab):
    pixel = lab["devices"][0].device.pixels.get(name="C").label
    files = [SimpleUploadedFile("el_spectrum.txt", (DATA / "el_spectrum.txt").read_bytes())]
    with _capture(execute=True):
        response = client_in.post(reverse("measurement-upload"), {"target": pixel, "file": files})
    assert response.status_code == 200
    # The row is rendered before the (on-commit) analysis runs; the page then polls it like any other.
    html = response.content.decode()
    mf = MeasurementFile.objects.get(original_name="el_spectrum.txt")
    assert f'data-file-id="{mf.pk}"' in html and 'id="upload-rows"' in html
    status = client_in.get(reverse("measurement-status"), {"ids": str(mf.pk)}).json()["files"][0]
    assert status["settled"] and "el_peak_wavelength" in status["metrics"]


def test_detail_shows_file_facts_metrics_and_plots(client_in_measured, measured_lab):
    mf = MeasurementFile.objects.get(original_name="jlv_sweep.csv")
    html = client_in_measured.get(mf.get_absolute_url()).content.decode()
    for text in (mf.sha256, "delimited", "J-L-V rig 1", "eqe_max", "led.jlv_el", 'data-charts="charts-',
                 "current density |J|", "EQE max"):
        assert text in html
    assert "<svg" not in html  # the figures are drawn by the browser from the stored curves
    download = client_in_measured.get(reverse("measurement-download", args=[mf.pk]))
    assert b"".join(download.streaming_content).rstrip() == (DATA / "jlv_sweep.csv").read_bytes().rstrip()


def test_status_and_detail_hide_other_projects(client, measured_lab):
    outsider = get_user_model().objects.create_user("outsider", password=PASSWORD)
    Project.objects.create(code="other", name="Other").members.add(outsider)
    client.login(username="outsider", password=PASSWORD)
    mf = MeasurementFile.objects.first()
    assert client.get(mf.get_absolute_url()).status_code == 404
    assert client.get(reverse("measurement-status"), {"ids": str(mf.pk)}).json()["files"] == []
    response = _post_file(client, measured_lab["devices"][0].label, "jlv_sweep.csv")
    assert response.status_code == 400 and "no sample or pixel" in response.json()["error"]


def test_list_query_count_does_not_grow(client_in_measured, measured_lab, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = client_in_measured.get(reverse("measurement-list"))
    assert response.status_code == 200 and "jlv_sweep.csv" in response.content.decode()


def test_stored_analysis_keeps_downsampled_curves(measured_lab):
    analysis = Analysis.objects.get(kind="jlv", superseded=False)
    arrays = analysis.result["arrays"]
    assert {"voltage_v", "current_density_ma_cm2", "eqe_percent", "wavelength_nm", "el_power"} <= set(arrays)
    assert all(len(v) <= 400 for v in arrays.values())


def test_compare_deep_link_overlays_and_scatter(client_in_measured, measured_lab):
    dev1, dev2 = measured_lab["devices"]
    film_recipe = measured_lab["recipes"]["film"].recipe
    drip = measured_lab["recipes"]["film"].steps.get(order=4).parameters.get(key="volume")
    query = {"samples": [dev1.label, dev2.label], "x": f"r{film_recipe.pk}.4.volume", "y": "eqe_max"}
    response = client_in_measured.get(reverse("compare"), query)
    assert response.status_code == 200
    ctx = response.context
    assert [s.label for s in ctx["samples"]] == [dev1.label, dev2.label]
    panels = {p["id"]: p for p in ctx["chart_data"]["panels"]}
    assert {"eqe_j", "jv", "lv", "el"} <= set(panels)
    assert "eqe_max" in ctx["metric_names"]
    points = ctx["scatter"]["points"]
    # Device 2 sits on the film made with 180 µL of QD ink; device 1 has no metric yet.
    assert [(p["label"], p["x"], p["group"]) for p in points] == [(dev2.label, 180.0, "v1")]
    assert points[0]["y"] == pytest.approx(18.0 * 0.08 / 0.09, abs=0.3)  # the stated 0.08 cm² pixel
    assert dev1.label in ctx["scatter"]["missing"]
    assert drip.unit == "µL"


def test_compare_draws_the_stored_overlays_as_it_thins_older_analyses_arrays(client_in_measured, measured_lab):
    """Compare reads each analysis's overlay (made when it was stored, a few kB) and thins the
    arrays itself for an analysis stored before overlays: the same chart either way."""
    dev1, dev2 = measured_lab["devices"]
    analysis = Analysis.objects.get(kind="jlv", superseded=False)
    arrays = analysis.result["arrays"]
    assert analysis.overlay["eqe_j"] == charts.overlay_curve(arrays["current_density_ma_cm2"], arrays["eqe_percent"])
    assert analysis.overlay["el"][1] and max(v for v in analysis.overlay["el"][1] if v is not None) == 1.0
    assert len(json.dumps(analysis.overlay)) < len(json.dumps(arrays)) / 2
    query = {"samples": [dev1.label, dev2.label]}
    stored = client_in_measured.get(reverse("compare"), query).context["chart_data"]
    Analysis.objects.update(overlay=None)
    thinned = client_in_measured.get(reverse("compare"), query).context["chart_data"]
    assert stored == thinned and {p["id"] for p in stored["panels"]} >= {"eqe_j", "jv", "lv", "el"}


def test_backfill_overlays_stores_the_curves_older_analyses_lacked(measured_lab):
    """``manage.py backfill_overlays`` gives analyses stored before overlays the overlay they would
    have been stored with (the same dict), in batches, and leaves the rest of the row alone; a
    second run finds nothing to do."""
    made = dict(Analysis.objects.values_list("pk", "overlay"))
    assert made and all(overlay is not None for overlay in made.values())
    before = {a.pk: (a.result, a.superseded, a.updated_at) for a in Analysis.objects.all()}
    Analysis.objects.update(overlay=None)
    out = io.StringIO()
    call_command("backfill_overlays", "--batch", "1", stdout=out)
    assert out.getvalue().strip() == f"Stored Compare curves on {len(made)} analyses"
    assert dict(Analysis.objects.values_list("pk", "overlay")) == made
    assert {a.pk: (a.result, a.superseded, a.updated_at) for a in Analysis.objects.all()} == before
    out = io.StringIO()
    call_command("backfill_overlays", stdout=out)
    assert out.getvalue().strip() == "Every analysis has its Compare curves"


def test_compare_recipe_family(client_in, lab):
    response = client_in.get(reverse("compare"), {"recipe": lab["recipes"]["film"].recipe_id})
    assert [s.label for s in response.context["samples"]] == [f.label for f in lab["films"]]
