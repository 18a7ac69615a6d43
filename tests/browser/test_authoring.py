"""Authoring in the browser (issue 14, "Done when"): from an empty database — one person, a lab
manager (staff), no project, no demo — create the project, two chemicals and a lot, write a recipe with steps and typed
parameters (a mass in volts refused first), make v2 with a reason, plan a run from it and print its
traveller. Every page is reached by its links; the admin is never visited."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from recipes.models import Chemical, ChemicalLot, Recipe
from samples.models import ProcessRun, Project
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "author-pass-123"
RECIPE = "PbBr2 stock in DMF (web)"


@pytest.fixture
def empty_lab(transactional_db):
    user = get_user_model().objects.create_user("ana", password=PASSWORD, is_staff=True)
    assert not Project.objects.exists() and not Chemical.objects.exists() and not Recipe.objects.exists()
    return user


def test_from_an_empty_database_to_a_printed_traveller(new_page, empty_lab, tmp_path):
    page = new_page(1024)  # the glovebox tablet
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)
    login(page, empty_lab.username, PASSWORD)

    # --- the project, from the user menu (a run is planned in a project) ----------------------------
    page.locator("details.usermenu summary").click()
    page.locator(".usermenu-panel").get_by_role("link", name="Projects").click()
    expect(page.get_by_text("No projects yet")).to_be_visible()
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Code").fill("web")
    page.get_by_label("Name").fill("Authoring test")
    expect(page.get_by_label("ana")).to_be_checked()  # the manager is a member by default
    page.get_by_role("button", name="Create project").click()
    expect(page.locator("#project-table")).to_contain_text("Authoring test")
    assert list(Project.objects.get(code="web").members.all()) == [empty_lab]

    # --- chemicals and a lot, from the chemical list's button -----------------------------------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Chemicals").click()
    expect(page.get_by_text("No chemicals yet")).to_be_visible()
    page.get_by_role("link", name="New chemical").first.click()
    page.get_by_label("Name").fill("Lead(II) bromide")
    page.get_by_label("Abbreviation").fill("PbBr2")
    page.get_by_label("Formula").fill("PbBr2")
    page.get_by_label("CAS number").fill("7758-95-4")
    page.get_by_label("Purity / grade (wt %)").fill("99,999")
    page.get_by_label("Ions (for the stoichiometry engine)").fill('{"Pb": 1, "Br": 2}')
    page.get_by_role("button", name="Create chemical").click()
    page.wait_for_url(re.compile(r"/recipes/chemicals/\d+/$"))
    expect(page.locator("dl.kv")).to_contain_text("367.01 g/mol")  # Pb 207.2 + 2 × 79.904

    add_lot = page.locator("#add-lot")
    expect(add_lot).to_have_attribute("open", "")  # no lots yet: the form is open
    add_lot.get_by_label("Lot number").fill("MKCR-0042")
    add_lot.get_by_label("Supplier").fill("Sigma-Aldrich")
    add_lot.get_by_label("Received").fill("2026-01-15")
    add_lot.get_by_label("Expires").fill("2031-01-15")
    add_lot.get_by_label("Quantity left").fill("25")
    add_lot.get_by_label("Unit").select_option("g")
    add_lot.get_by_role("button", name="Add lot").click()
    expect(page.locator('#lots tr[data-lot="MKCR-0042"]')).to_contain_text("25 g")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Chemicals").click()
    page.get_by_role("link", name="New chemical").first.click()
    page.get_by_label("Name").fill("N,N-Dimethylformamide")
    page.get_by_label("Abbreviation").fill("DMF")
    page.get_by_label("Formula").fill("C3H7NO")
    page.get_by_label("Density (g/mL)").fill("0.944")
    page.get_by_label("Solvent").check()
    page.get_by_role("button", name="Create chemical").click()
    expect(page.locator("dl.kv")).to_contain_text("73.09 g/mol")  # 3 × 12.011 + 7 × 1.008 + 14.007 + 15.999

    # --- a recipe with two steps; the second step and a third parameter are added in place ------
    page.get_by_role("navigation", name="Main").get_by_role("link", name="+ New").click()
    page.wait_for_url("**/recipes/new/")
    page.get_by_label("Name").fill(RECIPE)
    page.get_by_label("Kind of recipe").select_option("precursor_solution")
    page.get_by_label("Makes (sample kind)").select_option("precursor_solution")
    page.get_by_label("Description").first.fill("0.5 M PbBr₂ in DMF, typed in the browser")
    page.locator('[name="step-0-name"]').fill("Weigh and dissolve")
    page.locator('[name="step-0-action"]').select_option("add")
    fill_param(page, 0, 0, name="PbBr₂ mass", role="component", dimension="mass", nominal="146,8", unit="V",
               chemical="Lead(II) bromide (PbBr2)")
    hint = page.locator('[name="s0p-0-unit"]').locator("xpath=..").locator(".unit-hint")
    expect(hint).to_have_text("V is not a unit of mass: use mg, g, µg")  # the script says so as it is picked
    fill_param(page, 0, 1, name="DMF volume", role="solvent", dimension="volume", nominal="0.8", unit="mL",
               chemical="N,N-Dimethylformamide (DMF)")
    loads = len(visited)
    page.get_by_role("button", name="+ Add step").click()
    page.locator('[name="step-1-name"]').fill("Stir")
    page.locator('[name="step-1-action"]').select_option("mix")
    fill_param(page, 1, 0, name="Stir time", dimension="time", nominal="2", unit="h")
    fill_param(page, 1, 1, name="Temperature", dimension="temperature", nominal="60", min_value="55", max_value="65")
    page.locator('[data-step-index="1"]').get_by_role("button", name="+ Add parameter").click()
    fill_param(page, 1, 2, name="Stir speed", dimension="speed", nominal="500")
    assert page.locator('[name="s1p-2-unit"]').input_value() == "rpm"  # picked from the quantity
    assert len(visited) == loads  # rows added by the script, in place (the no-script path: tests/web)
    page.get_by_role("button", name="Create recipe (v1)").click()

    # The mass in volts is refused, naming the step and the parameter; everything typed is still there.
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("Step 1 (Weigh and dissolve), parameter “PbBr₂ mass”: V is a unit of voltage, "
                                   "not of mass; use mg, g, µg.")
    assert not Recipe.objects.exists()
    assert page.locator('[name="s1p-2-name"]').input_value() == "Stir speed"
    page.locator('[name="s0p-0-unit"]').select_option("mg")
    page.get_by_role("button", name="Create recipe (v1)").click()
    page.wait_for_url(re.compile(r"/recipes/\d+/$"))
    expect(page.locator("h1")).to_have_text(RECIPE)
    params = page.locator("#version-params")
    expect(params).to_contain_text("146.8 mg")
    expect(params).to_contain_text("55 – 65")
    expect(params).to_contain_text("500 rpm")

    # --- v2 with a reason --------------------------------------------------------------------
    page.get_by_role("link", name="Edit steps (new version)").click()
    page.locator('[name="s1p-0-nominal"]').fill("3")
    page.get_by_role("button", name="Create v2").click()
    expect(page.locator("#form-errors")).to_contain_text("Say what changed and why")
    page.get_by_label("What changed and why").fill("Stir 3 h: the 2 h solution was cloudy")
    page.get_by_role("button", name="Create v2").click()
    page.wait_for_url(re.compile(r"/recipes/\d+/\?v=2"))
    expect(page.locator(".timeline")).to_contain_text("Stir 3 h: the 2 h solution was cloudy")
    expect(page.locator("#diff")).to_contain_text("3 h")

    # --- plan a run from v2 and print its traveller ----------------------------------------------
    page.get_by_role("link", name="Plan a run from v2").click()
    page.get_by_label(re.compile("MKCR-0042")).check()
    page.get_by_role("button", name="Save run").click()
    page.wait_for_url(re.compile(r"/samples/runs/\d+/$"))
    run = ProcessRun.objects.get()
    assert run.recipe_version.number == 2 and run.operator == empty_lab
    assert list(run.lots.all()) == [ChemicalLot.objects.get(lot_number="MKCR-0042")]
    link = page.get_by_role("link", name="Traveller PDF")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "traveller.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert run.label in text and RECIPE in text and "MKCR-0042" in text

    assert len(visited) > 15 and not [url for url in visited if urlsplit(url).path.startswith("/admin/")]


def fill_param(page, step: int, row: int, *, name, dimension, nominal, role=None, unit=None, chemical=None,
               min_value=None, max_value=None) -> None:
    def field(name_):
        return page.locator(f'[name="s{step}p-{row}-{name_}"]')

    field("name").fill(name)
    if role:
        field("role").select_option(role)
    field("dimension").select_option(dimension)
    field("nominal").fill(nominal)
    if min_value is not None:
        field("min_value").fill(min_value)
        field("max_value").fill(max_value)
    if unit:
        field("unit").select_option(unit)
    if chemical:
        field("chemical").select_option(label=chemical)
