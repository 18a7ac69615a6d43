"""Issue 14 defect 6: lots warn when expired (plan form, run page, traveller), list the runs that
used them, and lose what each completed run logged (unit-converted; below zero is a warning)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pypdf import PdfReader

from portal.demo import _chemicals, _recipes
from portal.travellers import sheet_for_run
from recipes.models import ChemicalLot
from samples.models import LotUsage, Project
from samples.services import run_complete, run_plan, run_record_actuals
from samples.traveller import render_travellers

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(client):
    user = get_user_model().objects.create_user("lm", password="pw")
    project = Project.objects.create(code="lots", name="Lots")
    project.members.add(user)
    chemicals = _chemicals()
    client.force_login(user)
    return {"user": user, "project": project, "c": chemicals, "r": _recipes(chemicals, user), "client": client}


def _lot(chem, number, **kw):
    return ChemicalLot.objects.create(chemical=chem, supplier="Test", lot_number=number, **kw)


def test_completed_run_takes_its_logged_amounts_off_its_lots_with_unit_conversion(lab):
    c = lab["c"]
    pbbr2 = _lot(c["PbBr2"], "PB-1", amount_left=1.0, amount_unit="g")
    dmso = _lot(c["DMSO"], "DM-1", amount_left=100.0, amount_unit="g")  # a solvent counted by weight
    pbi2 = _lot(c["PbI2"], "PI-1", amount_left=50.0, amount_unit="mg")
    run = run_plan(version=lab["r"]["matrix"], project=lab["project"], lots=[pbbr2, dmso, pbi2])
    run_record_actuals(run, {"1.pbbr2": (146.9, "mg"), "2.dmso": (1.5, "mL"), "1.pbi2": (92.1, "mg")})
    run_complete(run)
    for lot in (pbbr2, dmso, pbi2):
        lot.refresh_from_db()
    assert pbbr2.amount_left == pytest.approx(1.0 - 0.1469)          # mg → g
    assert dmso.amount_left == pytest.approx(100.0 - 1.5 * 1.10)     # mL × 1.10 g/mL (DMSO's density)
    assert pbi2.amount_left == pytest.approx(50.0 - 92.1)            # −42.1 mg: a warning, not a block
    usage = LotUsage.objects.get(lot=dmso)
    assert usage.amount == pytest.approx(1.65) and "density" in usage.note
    assert LotUsage.objects.get(lot=pbi2).is_overdrawn
    assert pbbr2.history.count() == 2  # the decrement has its own history row
    page = lab["client"].get(reverse("run-detail", args=[run.pk])).content.decode()
    lots_html = page.split("<h2>Chemical lots</h2>")[1].split("</section>")[0]
    assert "more was used than the lot" in lots_html and "-42.1 mg left" in lots_html, lots_html
    # "Used in" on the chemical's page names the run and what it took.
    page = lab["client"].get(reverse("chemical-detail", args=[c["PbBr2"].pk])).content.decode()
    row = page.split('data-lot="PB-1"')[1].split("</tr>")[0]
    assert run.label in row and "0.1469 g" in row and "0.8531 g" in row


def test_amounts_not_logged_or_ambiguous_lots_take_nothing_and_say_why(lab):
    c = lab["c"]
    one, two = _lot(c["PbBr2"], "PB-A", amount_left=1.0), _lot(c["PbBr2"], "PB-B", amount_left=1.0)
    pbi2 = _lot(c["PbI2"], "PI-2", amount_left=1.0)
    run = run_plan(version=lab["r"]["matrix"], project=lab["project"], lots=[one, two, pbi2])
    run_record_actuals(run, {"1.pbbr2": (146.9, "mg")})
    run_complete(run)
    for lot in (one, two, pbi2):
        lot.refresh_from_db()
        assert lot.amount_left == 1.0
    assert "2 lots of Lead(II) bromide" in LotUsage.objects.get(lot=one).note
    assert "no actual amount logged" in LotUsage.objects.get(lot=pbi2).note


def test_expired_lots_are_flagged_on_the_plan_form_run_page_and_traveller(lab):
    c = lab["c"]
    old = _lot(c["PbBr2"], "PB-OLD", expires_on=dt.date.today() - dt.timedelta(days=3))
    fresh = _lot(c["PbI2"], "PI-NEW", expires_on=dt.date.today() + dt.timedelta(days=300))
    page = lab["client"].get(reverse("run-plan", args=[lab["r"]["matrix"].pk])).content.decode()
    assert f"PbBr2 lot PB-OLD (Test) — EXPIRED {old.expires_on:%Y-%m-%d}" in page
    assert "⚠ Expired:" in page and "PI-NEW (Test) · expires" in page
    run = run_plan(version=lab["r"]["matrix"], project=lab["project"], lots=[old, fresh])
    page = lab["client"].get(reverse("run-detail", args=[run.pk])).content.decode()
    assert f"expired on {old.expires_on:%Y-%m-%d}, before this run" in page and "PI-NEW" in page
    assert page.count('class="deviation-note lot-expired"') == 1
    rows = {r.lot_number: r for r in sheet_for_run(run).chemicals}
    assert rows["PB-OLD"].expired and not rows["PI-NEW"].expired
    text = "".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(render_travellers([sheet_for_run(run)]))).pages)
    assert f"EXPIRED {old.expires_on:%Y-%m-%d}" in text
    # A run planned before the lot expired was not using an expired lot.
    early = run_plan(version=lab["r"]["matrix"], project=lab["project"], lots=[old],
                     planned_date=old.expires_on - dt.timedelta(days=10))
    assert not {r.lot_number: r for r in sheet_for_run(early).chemicals}["PB-OLD"].expired
