"""Figures off the pipeline (issue 15): the pages carry each analysis's stored charts as data and
no inline SVG; a PNG/SVG is drawn on the first request and then served from its Plot row."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from measurements import services
from measurements.metric_names import metric_name
from measurements.models import Analysis, Plot
from samples.models import Project
from tests.browser.scenario import PASSWORD, build_lab

pytestmark = pytest.mark.django_db


@pytest.fixture
def measured(django_capture_on_commit_callbacks, client):
    with django_capture_on_commit_callbacks(execute=True):
        lab = build_lab()
    client.login(username=lab["user"].username, password=PASSWORD)
    return lab


def _analysis(lab) -> Analysis:
    return Analysis.objects.get(kind="jlv", superseded=False, sample=lab["devices"][1])


def test_the_pipeline_stores_charts_and_draws_no_figure(measured):
    analysis = _analysis(measured)
    names = [c["name"] for c in analysis.result["charts"]]
    assert names == ["jv", "lv", "eqe_j", "el_spectrum", "cie"]
    assert not Plot.objects.exists()  # nothing drawn until someone asks


def test_device_page_has_the_chart_data_and_no_inline_svg(client, measured):
    analysis = _analysis(measured)
    page = client.get(reverse("sample-detail", args=[measured["devices"][1].label])).content.decode()
    # The one SVG is the server-drawn lineage graph; no figure is inlined.
    assert page.count("<svg") == page.count('<svg class="lineage"') == 1
    assert "Created with matplotlib" not in page and "<?xml" not in page
    start = page.index(f'<script id="charts-{analysis.pk}" type="application/json">') + len(
        f'<script id="charts-{analysis.pk}" type="application/json">')
    charts = json.loads(page[start:page.index("</script>", start)])
    assert charts == analysis.result["charts"]
    assert page.count(f'data-charts="charts-{analysis.pk}"') == len(charts)
    # Captions name the metric by its human name, with the stored value to the registry's digits
    # (one number format per metric: EQE to 3 significant figures, as in every table).
    eqe = analysis.result["metrics"]["eqe_max"]["value"]
    assert metric_name("eqe_max").digits == 3
    assert f"EQE–J · EQE max {eqe:#.3g} %" in page


def test_png_is_drawn_once_then_served_from_the_cache(client, measured, monkeypatch):
    analysis = _analysis(measured)
    calls = []
    real = services.render_chart
    monkeypatch.setattr(services, "render_chart", lambda chart, fmt: calls.append((chart["name"], fmt)) or real(chart, fmt))
    url = reverse("analysis-figure", args=[analysis.pk, "eqe_j", "png"])
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200 and first["Content-Type"] == "image/png"
    assert first.content[:4] == b"\x89PNG" and second.content == first.content
    assert calls == [("eqe_j", "png")]
    svg = client.get(reverse("analysis-figure", args=[analysis.pk, "eqe_j", "svg"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"EQE (%)" in svg.content
    assert calls == [("eqe_j", "png"), ("eqe_j", "svg")]
    row = Plot.objects.get(analysis=analysis, name="eqe_j")
    assert bytes(row.png) == first.content and row.svg.encode() == svg.content
    assert client.get(reverse("analysis-figure", args=[analysis.pk, "nope", "png"])).status_code == 404
    assert client.get(reverse("analysis-figure", args=[analysis.pk, "eqe_j", "gif"])).status_code == 404


def test_figures_of_other_projects_are_not_found(client, measured):
    outsider = get_user_model().objects.create_user("outsider", password=PASSWORD)
    Project.objects.create(code="other", name="Other").members.add(outsider)
    client.logout()
    client.login(username="outsider", password=PASSWORD)
    url = reverse("analysis-figure", args=[_analysis(measured).pk, "eqe_j", "png"])
    assert client.get(url).status_code == 404
    assert not Plot.objects.exists()


def test_traveller_prints_the_stored_charts_as_vectors(measured, monkeypatch):
    from portal.travellers import results_for
    from samples.traveller import render_travellers
    from samples.traveller.demo import demo_completed_sheet

    device = measured["devices"][1]
    calls = []
    monkeypatch.setattr(services, "render_chart", lambda chart, fmt: calls.append(chart["name"]))
    _, plots = results_for([device])[device.pk]
    assert [p.title for p in plots] == ["EQE–J", "EL spectrum"]
    assert [p.chart["name"] for p in plots] == ["eqe_j", "el_spectrum"] and calls == []  # no matplotlib, no PNG
    sheet = dataclasses.replace(demo_completed_sheet(plots=False), plots=plots)
    text = _pdf_text(render_travellers([sheet]))
    # The figures are on the page as drawn text and paths: axis labels with units, the EQE mark.
    assert "current density (mA/cm²)" in text and "EQE (%)" in text and "wavelength (nm)" in text
    assert "EQE max" in text


def _pdf_text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
