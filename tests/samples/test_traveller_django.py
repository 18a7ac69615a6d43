"""Traveller sheets and labels from the database: selectors, API endpoints, management command.

Built on the PROCESS.md demo (tests/conftest.py ``demo``). Each PDF is read back with pypdf, and the
QR codes are decoded from the rendered page (pdftoppm + zbarimg; required when CI=true).
"""

from __future__ import annotations

import io
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage
from pypdf import PdfReader
from rest_framework.test import APIClient

from measurements.models import Aggregate, Analysis, DerivedMetric, MetricScope, Plot
from portal.travellers import sheet_for_run, sheet_for_sample, sheets_for_runs
from samples.models import ProcessRun, Project, Sample
from samples.services import run_record_actuals
from samples.traveller import render_labels, render_travellers
from samples.traveller.pdf import fmt_quantity, fmt_range
from samples.travellers import labels_for_samples, run_url, sample_url
from tests.samples.test_traveller_pdf import MASSES, _decode_qr
from tests.tokens import Token

TRAVELLER_URLS = "tests.samples.traveller_urls"
PDF_MAGIC = b"%PDF-"


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _planned_texts(run: ProcessRun) -> list[str]:
    """Each numeric planned value as the sheet prints it: '1000 rpm', '150 µL', '100–200 µL'."""
    from samples.traveller import ParamRow

    out = []
    for v in run.values.select_related("parameter"):
        if v.parameter.value_type != "number":
            out.append(v.planned_text)
            continue
        row = ParamRow(v.parameter.name, v.planned_nominal, v.unit, v.planned_min, v.planned_max)
        out += [t for t in (fmt_quantity(row.planned, row.unit), fmt_range(row)) if t]
    return out


@pytest.fixture
def film_run(demo) -> ProcessRun:
    return demo["film"].produced_by


@pytest.fixture
def precursor_run(demo) -> ProcessRun:
    return demo["precursor"].produced_by


# --- the sheets -----------------------------------------------------------------------------------

def test_film_run_sheet_prints_label_planned_values_parents_and_signoff(film_run):
    pdf = render_travellers([sheet_for_run(film_run)])
    text = "\n".join(_pages(pdf))
    squashed = _squash(text)
    assert film_run.label in text
    assert "QD-in-matrix film (QD-ink drip)" in squashed or "QD-in-matrix film" in text
    planned = _planned_texts(film_run)
    assert {"200 µL", "1000 rpm", "5000 rpm", "150 µL", "100–200 µL", "25–27 s", "45–55 °C", "110 °C", "5–10 min"} <= set(planned)
    for value in planned:
        assert _squash(value) in squashed, value
    for line in ("Done by", "Checked by", "Operator", "Glovebox O₂", "Glovebox H₂O"):
        assert line in text, line
    for parent in ("INK-0001", "PRE-0001"):
        assert parent in text
    assert "outside planned range" not in text  # the demo film ran inside every window

    decoded = _decode_qr(pdf)
    if decoded is not None:
        parents = {sample_url(s) for s in film_run.inputs.all()}
        assert {run_url(film_run), *parents} <= set(decoded), decoded
        assert settings.SITE_URL + "/samples/PRE-0001/" in decoded


def test_precursor_run_sheet_has_the_masses_to_weigh_lots_and_hazards(precursor_run):
    sheet = sheet_for_run(precursor_run)
    assert [round(r.mg, 2) for r in sheet.weigh_table.rows] == [146.80, 92.20, 83.14, 12.72, 99.64]
    assert [r.actual_mg for r in sheet.weigh_table.rows] == [146.9, 92.1, 83.2, 12.7, 99.7]  # the logged masses
    assert sheet.weigh_table.volume_ml == 1.5
    text = "\n".join(_pages(render_travellers([sheet])))
    for mass in MASSES:
        assert mass in text, mass
    assert "for 1.5 mL DMSO" in text
    assert "PEA₂(Cs₀.₈MA₀.₂)₂Pb₃(I₀.₆Br₀.₄)₁₀" in text
    assert "[Pb²⁺] = 0.4000 M" in text and "Br/(I+Br) = 0.4000" in text and "⟨n⟩ = 3" in text
    assert "DEMO-PbBr2-01" in text and "H360Df" in text
    assert "off by" not in text  # every logged mass within tolerance


def test_completed_run_with_a_deviation_is_flagged_as_the_server_judged_it(film_run):
    run_record_actuals(film_run, {"5.temperature": (58, "°C")})  # soft anneal ran hot: 45–55 °C allowed
    sheet = sheet_for_run(film_run)
    flags = {(s.order, p.name): p.deviation for s in sheet.steps for p in s.parameters}
    server = {(v.parameter.step.order, v.parameter.name): v.is_deviation
              for v in film_run.values.select_related("parameter__step")}
    assert flags == server and flags[(5, "Temperature")] is True
    assert sheet.status == "completed"
    text = "\n".join(_pages(render_travellers([sheet])))
    assert "outside planned range" in text
    assert "58" in text


def test_recipe_chemicals_without_a_lot_are_listed_with_the_lot_blank(demo):
    qd_run = demo["qd"].produced_by
    sheet = sheet_for_run(qd_run)
    lots = {c.name: c.lot_number for c in sheet.chemicals}
    assert lots["Lead(II) iodide"] == "DEMO-PbI2-01"
    assert lots["Toluene"] == ""  # used by the recipe, no lot chosen for the run
    assert "H360Df" in next(c for c in sheet.chemicals if c.name == "Lead(II) iodide").hazards


def test_sheets_take_a_fixed_number_of_queries(demo, django_assert_max_num_queries):
    runs = list(ProcessRun.objects.order_by("pk"))
    assert len(runs) >= 10
    with CaptureQueriesContext(connection) as two:
        # between them: inputs, lots, and one run with something to weigh
        sheets_for_runs([demo["film"].produced_by, demo["precursor"].produced_by])
    fixed = len(two.captured_queries) - 1
    # Fixed, plus one per run with something to weigh (run_composition reads its own amounts).
    weighing = sum(1 for s in sheets_for_runs(runs) if s.weigh_table is not None)
    assert weighing == 4  # Cs-oleate, QD flask, ligand doses, matrix precursor
    # The QD flask also reads its Cs-oleate input's run (stock molarity) and injection volume: 3 more.
    with django_assert_max_num_queries(fixed + weighing + 3):
        sheets = sheets_for_runs(runs)
    assert [s.label for s in sheets] == [r.label for r in runs]
    with django_assert_max_num_queries(16):
        sheet_for_sample(demo["devices"]["QD-in-matrix LED, stack A"].sample)


def _png() -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (240, 170), "white").save(buf, format="PNG")
    return buf.getvalue()


def test_sample_sheet_has_results_plots_and_a_qr_of_the_sample_url(demo):
    dev = demo["devices"]["QD-in-matrix LED, stack A"]
    sample, pixel = dev.sample, dev.pixels.get(name="A")
    analysis = Analysis.objects.create(kind="jlv", method="led.jlv_el", version="1", sample=sample, pixel=pixel)
    old = Analysis.objects.create(kind="jlv", method="led.jlv_el", version="1", sample=sample, pixel=pixel, superseded=True)
    Plot.objects.create(analysis=analysis, name="eqe_j", svg="<svg/>", png=_png())
    Plot.objects.create(analysis=old, name="el_spectrum", svg="<svg/>", png=_png())  # superseded: not printed
    common = dict(sample=sample, device=dev, method="led.jlv_el", version="1")
    DerivedMetric.objects.bulk_create([
        DerivedMetric(name="eqe_max", value=17.998, unit="%", scope=MetricScope.PIXEL, pixel=pixel, analysis=analysis, **common),
        DerivedMetric(name="eqe_max", value=17.998, unit="%", scope=MetricScope.DEVICE, aggregate=Aggregate.BEST,
                      extra={"pixel": pixel.label}, **common),
        DerivedMetric(name="eqe_max", value=11.0, unit="%", scope=MetricScope.DEVICE, aggregate=Aggregate.MEDIAN, **common),
        DerivedMetric(name="turn_on_voltage", value=2.4, unit="V", scope=MetricScope.PIXEL, pixel=pixel, **common),
        DerivedMetric(name="turn_on_voltage", value=2.4, unit="V", scope=MetricScope.DEVICE, aggregate=Aggregate.BEST, **common),
        DerivedMetric(name="luminance_max", value=9999, unit="cd/m²", scope=MetricScope.DEVICE, aggregate=Aggregate.BEST,
                      superseded=True, **common),
    ])
    sheet = sheet_for_sample(sample)
    assert sheet.label == sample.label and sheet.url == sample_url(sample)
    # One pixel's values (issue 14: never beside the 11.0 % median), to the registry's digits.
    assert [(m.name, m.value, m.unit) for m in sheet.results] == [
        ("pixel", f"{pixel.label} (the only pixel measured)", ""), ("eqe_max", "18.0", "%"), ("turn_on_voltage", "2.40", "V")]
    assert [p.title for p in sheet.plots] == ["EQE–J"]
    assert [p.label for p in sheet.parents] == ["FILM-0003", "INK-0001", "PRE-0001", "SUB-0001"]
    pdf = render_travellers([sheet])
    text = "\n".join(_pages(pdf))
    assert "EQE max" in text and "eqe_max" not in text and "18.0 %" in text and "Results" in text
    assert sample.produced_by.label in text  # the run it came from
    decoded = _decode_qr(pdf)
    if decoded is not None:
        assert settings.SITE_URL + f"/samples/{sample.label}/" in decoded, decoded


@pytest.mark.urls(TRAVELLER_URLS)
def test_urls_fall_back_to_known_paths_without_the_html_pages(demo):
    assert sample_url(demo["precursor"]) == settings.SITE_URL + "/samples/PRE-0001/"
    run = demo["film"].produced_by
    assert run_url(run) == settings.SITE_URL + f"/samples/runs/{run.pk}/"


def test_labels_carry_label_kind_owner_and_url(demo):
    labels = labels_for_samples([demo["ink"], demo["precursor"]])
    assert [(x.label, x.kind, x.owner) for x in labels] == [("INK-0001", "Treated QD ink", "Demo Operator"),
                                                            ("PRE-0001", "Precursor solution", "Demo Operator")]
    pdf = render_labels(labels)
    assert "INK-0001" in _pages(pdf)[0]
    decoded = _decode_qr(pdf)
    if decoded is not None:
        assert {x.url for x in labels} <= set(decoded)


# --- the API --------------------------------------------------------------------------------------

@pytest.fixture
def clients(demo):
    User = get_user_model()
    member = User.objects.create_user("member", password="pw")
    demo["project"].members.add(member)
    outsider = User.objects.create_user("outsider", password="pw")
    Project.objects.create(code="other", name="Other").members.add(outsider)

    def client(user=None, token=False):
        c = APIClient()
        if user and token:
            c.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        elif user:
            c.force_login(user)
        return c

    return {"member": client(member, token=True), "session": client(member), "outsider": client(outsider, token=True),
            "anonymous": client()}


@pytest.mark.urls(TRAVELLER_URLS)
def test_api_run_and_sample_travellers(demo, clients):
    run = demo["film"].produced_by
    urls = {f"/api/v1/runs/{run.pk}/traveller.pdf": f"{run.label}-traveller.pdf",
            "/api/v1/samples/FILM-0001/traveller.pdf": "FILM-0001-traveller.pdf"}
    for url, filename in urls.items():
        for who in ("member", "session"):
            response = clients[who].get(url)
            assert response.status_code == 200, (who, url, response.content[:200])
            assert response["Content-Type"] == "application/pdf"
            assert response["Content-Disposition"] == f'inline; filename="{filename}"'
            assert response.content.startswith(PDF_MAGIC)
        assert clients["outsider"].get(url).status_code == 404
        assert clients["anonymous"].get(url).status_code in (401, 403)
    assert clients["member"].get("/api/v1/runs/999999/traveller.pdf").status_code == 404
    assert clients["member"].get("/api/v1/samples/NOPE-0001/traveller.pdf").status_code == 404

    letter = clients["member"].get(f"/api/v1/runs/{run.pk}/traveller.pdf?pagesize=Letter")
    box = PdfReader(io.BytesIO(letter.content)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    assert clients["member"].get(f"/api/v1/runs/{run.pk}/traveller.pdf?pagesize=A5").status_code == 400
    pdf_accept = clients["member"].get(f"/api/v1/runs/{run.pk}/traveller.pdf", HTTP_ACCEPT="application/pdf")
    assert pdf_accept.status_code == 200


@pytest.mark.urls(TRAVELLER_URLS)
def test_api_batch_and_labels(demo, clients):
    film, pre = demo["film"].produced_by, demo["precursor"].produced_by
    response = clients["member"].get(f"/api/v1/travellers.pdf?runs={film.pk},{pre.pk}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = _pages(response.content)
    assert sum("page 1/" in p for p in pages) == 2
    assert film.label in pages[0] and pre.label in pages[-1]
    assert clients["outsider"].get(f"/api/v1/travellers.pdf?runs={film.pk}").status_code == 404
    assert clients["member"].get("/api/v1/travellers.pdf?runs=a,b").status_code == 400
    assert clients["member"].get("/api/v1/travellers.pdf").status_code == 400
    assert clients["anonymous"].get(f"/api/v1/travellers.pdf?runs={film.pk}").status_code in (401, 403)

    response = clients["member"].get("/api/v1/labels.pdf?samples=INK-0001,PRE-0001&layout=roll-62mm")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pages = _pages(response.content)
    assert len(pages) == 2 and "INK-0001" in pages[0] and "PRE-0001" in pages[1]
    sheet = clients["member"].get("/api/v1/labels.pdf?samples=INK-0001,PRE-0001")
    assert len(_pages(sheet.content)) == 1  # both on one A4 3 × 10 sheet
    assert clients["member"].get("/api/v1/labels.pdf?samples=INK-0001&layout=huge").status_code == 400
    assert clients["outsider"].get("/api/v1/labels.pdf?samples=INK-0001").status_code == 404
    assert clients["anonymous"].get("/api/v1/labels.pdf?samples=INK-0001").status_code in (401, 403)


# --- the management command -----------------------------------------------------------------------

def test_command_prints_one_sheet_per_label(demo, tmp_path):
    out = tmp_path / "two.pdf"
    run = demo["film"].produced_by
    call_command("traveller", "PRE-0001", run.label, "-o", str(out), "--pagesize", "Letter", stdout=io.StringIO())
    pages = _pages(out.read_bytes())
    assert sum("page 1/" in p for p in pages) == 2
    assert "PRE-0001" in pages[0] and run.label in pages[-1]

    labels = tmp_path / "labels.pdf"
    call_command("traveller", "PRE-0001", "INK-0001", "-o", str(labels), "--labels", stdout=io.StringIO())
    text = _pages(labels.read_bytes())[0]
    assert "PRE-0001" in text and "INK-0001" in text


def test_command_refuses_unknown_labels(demo, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="NOPE-0001"):
        call_command("traveller", "NOPE-0001", "-o", str(tmp_path / "x.pdf"))
    assert not Sample.objects.filter(label="NOPE-0001").exists()


def test_a_completed_run_prints_what_its_outputs_measured(demo):
    dev = demo["devices"]["QD-in-matrix LED, stack A"]
    analysis = Analysis.objects.create(kind="jlv", method="led.jlv_el", version="1", sample=dev.sample)
    Plot.objects.create(analysis=analysis, name="eqe_j", svg="<svg/>", png=_png())
    DerivedMetric.objects.create(name="eqe_max", value=17.998, unit="%", scope=MetricScope.DEVICE, aggregate=Aggregate.BEST,
                                 sample=dev.sample, device=dev, method="led.jlv_el", version="1")
    device_run = dev.sample.produced_by
    (sheet,) = sheets_for_runs([device_run])
    assert [(m.name, m.value, m.unit) for m in sheet.results] == [("eqe_max", "18.0", "%")]
    assert [p.title for p in sheet.plots] == ["EQE–J"]
    text = "\n".join(_pages(render_travellers([sheet])))
    assert "18.0 %" in text and "Results" in text
    # A batch run (three substrates) labels each output's numbers; a run without results prints none.
    substrates = demo["devices"]["QD-only control LED, stack A"].sample.parents.filter(kind="substrate")
    cleaning_run = substrates.first().produced_by
    DerivedMetric.objects.create(name="plqy", value=41.0, unit="%", sample=substrates.first(), method="plqy.de_mello", version="1")
    (batch,) = sheets_for_runs([cleaning_run])
    assert [m.name for m in batch.results] == [f"{substrates.first().label} · plqy"] and batch.plots == []
    (film,) = sheets_for_runs([demo["control_film"].produced_by])
    assert film.results == [] and film.plots == []
