"""Authoring in the browser (issue 14): a new recipe with steps and typed parameters, a new version
with a reason, chemicals and lots — through the pages, with the API's write rule (an instrument
account gets 403) and the author in the history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from core.api.permissions import INSTRUMENT_GROUP
from recipes.models import Chemical, ChemicalLot, Recipe, RecipeParameter, RecipeVersion

pytestmark = pytest.mark.django_db


def management(prefix: str, total: int, initial: int = 0) -> dict:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def param(prefix: str, i: int, **fields) -> dict:
    row = {"name": "", "key": "", "role": "setting", "dimension": "", "nominal": "", "min_value": "",
           "max_value": "", "unit": "", "text_value": "", "chemical": "", "stock_mg_ml": ""}
    row.update({k: ("" if v is None else str(v)) for k, v in fields.items()})
    return {f"{prefix}-{i}-{k}": v for k, v in row.items()}


def recipe_post(chemical, *, unit_of_mass="mg", extra: dict | None = None) -> dict:
    """Two steps: weigh PbI₂ (a component in mg) and a spin step (speed, time, an anneal in °C), plus
    a blank parameter row (ignored) and a row ticked Remove (dropped)."""
    data = {"recipe-name": "Matrix film from the web", "recipe-step_type": "spin_coating",
            "recipe-output_kind": "film", "recipe-description": "Typed in the browser",
            "recipe-reference": "", "version-notes": "",
            **management("step", 2)}
    data.update({"step-0-name": "Weigh", "step-0-action": "add", "step-0-instructions": "In the glovebox",
                 "step-1-name": "Spin", "step-1-action": "spin", "step-1-instructions": ""})
    data.update(management("s0p", 2))
    data.update(param("s0p", 0, name="PbI₂ mass", role="component", dimension="mass", nominal="92,2",
                      unit=unit_of_mass, chemical=chemical.pk))
    data.update(param("s0p", 1))  # blank: ignored
    data.update(management("s1p", 4))
    data.update(param("s1p", 0, name="Spin speed", dimension="speed", nominal=5000, unit="rpm"))
    data.update(param("s1p", 1, name="Spin time", dimension="time", nominal=60, min_value=55, max_value=65, unit="s"))
    data.update(param("s1p", 2, name="Anneal", dimension="temperature", nominal=90, unit="°C"))
    data.update(param("s1p", 3, name="Dropped", dimension="time", nominal=1, unit="V", DELETE="on"))
    data.update(extra or {})
    return data


@pytest.fixture
def instrument(db):
    account = get_user_model().objects.create_user("rig-1", password="pw")
    account.groups.add(Group.objects.get_or_create(name=INSTRUMENT_GROUP)[0])
    return account


def test_new_recipe_creates_v1_with_steps_parameters_and_the_author(client_in, user, chemical):
    response = client_in.post(reverse("recipe-create"), recipe_post(chemical))
    recipe = Recipe.objects.get(name="Matrix film from the web")
    assert response.status_code == 302 and response.url == reverse("recipe-detail", args=[recipe.pk])
    (v1,) = recipe.versions.all()
    assert v1.number == 1 and v1.notes == "First version" and v1.created_by == user
    steps = list(v1.steps.order_by("order"))
    assert [(s.order, s.name, s.action) for s in steps] == [(1, "Weigh", "add"), (2, "Spin", "spin")]
    rows = [(p.key, p.nominal, p.min_value, p.max_value, p.unit, p.role, p.chemical_id)
            for s in steps for p in s.parameters.order_by("order")]
    assert rows == [
        ("pbi2_mass", 92.2, None, None, "mg", "component", chemical.pk),  # "92,2" is 92.2, ₂ → 2 in the key
        ("spin_speed", 5000.0, None, None, "rpm", "setting", None),
        ("spin_time", 60.0, 55.0, 65.0, "s", "setting", None),
        ("anneal", 90.0, None, None, "°C", "setting", None),
    ]
    assert recipe.history.first().history_user == user
    assert RecipeParameter.history.filter(key="spin_time").first().history_user == user
    page = client_in.get(response.url).content.decode()
    assert "Matrix film from the web" in page and "55 – 65" in page


def test_a_mass_in_volts_is_refused_naming_step_and_parameter(client_in, chemical):
    response = client_in.post(reverse("recipe-create"), recipe_post(chemical, unit_of_mass="V"))
    assert response.status_code == 200
    assert not Recipe.objects.filter(name="Matrix film from the web").exists()
    message = "Step 1 (Weigh), parameter “PbI₂ mass”: V is a unit of voltage, not of mass; use mg, g, µg."
    html = response.content.decode()
    assert html.count(message) == 1  # in the summary at the top …
    assert "V is a unit of voltage, not of mass; use mg, g, µg." in html.replace(message, "")  # … and beside the unit
    # What was typed comes back: nothing to type again.
    assert 'value="92,2"' in html and 'value="Spin time"' in html


@pytest.mark.parametrize(("fields", "expected"), [
    ({"dimension": "", "unit": "mg"}, "choose what it measures"),
    ({"dimension": "mass", "unit": ""}, "choose its unit: mg, g, µg."),
    ({"min_value": 100, "max_value": 50}, "The range is upside down"),
    ({"chemical": ""}, "A component names its chemical."),
    ({"nominal": "1,2,3"}, "Write the number with one decimal separator"),
])
def test_other_parameter_mistakes_are_refused_with_a_reason(client_in, chemical, fields, expected):
    data = recipe_post(chemical)
    data.update({f"s0p-0-{k}": str(v) for k, v in fields.items()})
    response = client_in.post(reverse("recipe-create"), data)
    assert response.status_code == 200 and expected in response.content.decode()
    assert not Recipe.objects.filter(name="Matrix film from the web").exists()


def test_add_step_and_add_parameter_work_without_javascript(client_in, chemical):
    data = recipe_post(chemical, extra={"add_param": "0"})
    response = client_in.post(reverse("recipe-create"), data)
    html = response.content.decode()
    assert response.status_code == 200 and not Recipe.objects.exists()
    assert 'name="s0p-TOTAL_FORMS" value="3"' in html and 'name="s0p-2-name"' in html
    assert "Not saved" not in html  # growing the form is not an attempt to save it
    data = recipe_post(chemical, extra={"add_step": "1"})
    html = client_in.post(reverse("recipe-create"), data).content.decode()
    assert 'name="step-TOTAL_FORMS" value="3"' in html and 'name="step-2-name"' in html
    assert 'name="s2p-TOTAL_FORMS" value="2"' in html and 'name="s2p-1-name"' in html
    # The grown form, filled in, saves: the new step with its parameter is the third step.
    data = recipe_post(chemical, extra={**management("step", 3), "step-2-name": "Anneal", "step-2-action": "anneal",
                                        "step-2-instructions": "", **management("s2p", 1),
                                        **param("s2p", 0, name="Time", dimension="time", nominal=10, unit="min")})
    assert client_in.post(reverse("recipe-create"), data).status_code == 302
    v1 = RecipeVersion.objects.get(recipe__name="Matrix film from the web")
    assert v1.steps.get(order=3).parameters.get().unit == "min"


def test_a_duplicate_recipe_name_is_refused(client_in, chemical, version):
    data = recipe_post(chemical, extra={"recipe-name": version.recipe.name})
    response = client_in.post(reverse("recipe-create"), data)
    assert response.status_code == 200 and "already exists" in response.content.decode()


def test_new_version_by_editing_steps_needs_a_reason_which_the_history_shows(client_in, user, version):
    url = reverse("recipe-version-edit", args=[version.pk])
    page = client_in.get(url)
    assert page.status_code == 200
    form = page.context["editor"]
    # Re-post what the page offers (v1's content), with one value changed and one parameter added.
    data = {"version-notes": ""}
    data.update(management("step", 2, 2))
    for i, (step, params) in enumerate(zip(form.steps.forms, form.param_sets, strict=True)):
        data.update({f"step-{i}-{k}": v for k, v in step.initial.items()})
        data.update(management(f"s{i}p", len(params.forms), len(params.initial_forms)))
        for j, p in enumerate(params.forms):
            data.update(param(f"s{i}p", j, **{k: v for k, v in p.initial.items() if v is not None}))
    assert data["s1p-0-key"] == "volume" and data["s1p-0-min_value"] == "100"
    data["s1p-0-nominal"] = "160"
    data.update(param("s1p", 2, name="Drip delay", dimension="time", nominal=12, unit="s"))
    data["s1p-TOTAL_FORMS"] = "3"

    refused = client_in.post(url, data)
    assert refused.status_code == 200 and "Say what changed and why" in refused.content.decode()
    assert version.recipe.versions.count() == 1

    data["version-notes"] = "Drip 160 µL and time the delay"
    response = client_in.post(url, data)
    assert response.status_code == 302
    v2 = version.recipe.versions.get(number=2)
    assert v2.notes == "Drip 160 µL and time the delay" and v2.created_by == user
    assert v2.steps.get(order=2).parameters.get(key="volume").nominal == 160
    assert v2.steps.get(order=2).parameters.get(key="drip_delay").unit == "s"
    assert v2.steps.get(order=1).parameters.get(key="pbi2").chemical_id == version.steps.get(order=1).parameters.get().chemical_id
    assert version.steps.get(order=2).parameters.get(key="volume").nominal == 150  # v1 untouched
    history = client_in.get(reverse("recipe-detail", args=[version.recipe_id])).content.decode()
    assert "Drip 160 µL and time the delay" in history


def test_the_values_revise_page_needs_a_reason_too(client_in, version):
    url = reverse("recipe-revise", args=[version.pk])
    response = client_in.post(url, {"notes": "", "p2_volume__nominal": "170", "p2_volume__min_value": "100",
                                    "p2_volume__max_value": "200", "p2_volume__unit": "µL"})
    assert response.status_code == 200 and "Say what changed and why" in response.content.decode()
    assert version.recipe.versions.count() == 1


def test_chemical_create_computes_the_molar_mass_and_checks_cas(client_in, user):
    url = reverse("chemical-create")
    base = {"name": "Lead(II) bromide", "abbreviation": "PbBr2", "formula": "PbBr2", "cas": "7758-95-4",
            "molar_mass_g_mol": "", "density_g_ml": "", "purity_wt_percent": "99,999", "ions": '{"Pb": 1, "Br": 2}',
            "hazards": "H302", "is_solvent": ""}
    bad_cas = client_in.post(url, {**base, "cas": "7758-95-5"})
    assert "is not a CAS number" in bad_cas.content.decode()
    bad_formula = client_in.post(url, {**base, "formula": "PbBr2Xq"})
    assert bad_formula.status_code == 200 and not Chemical.objects.exists()
    wrong_mass = client_in.post(url, {**base, "molar_mass_g_mol": "300"})
    assert "gives 367.01 g/mol, not 300" in wrong_mass.content.decode()
    response = client_in.post(url, base)
    chem = Chemical.objects.get()
    assert response.status_code == 302 and response.url == reverse("chemical-detail", args=[chem.pk])
    # Pb 207.2 + 2 × Br 79.904 = 367.008 g/mol (IUPAC standard atomic weights)
    assert chem.molar_mass_g_mol == pytest.approx(367.008, abs=0.01)
    assert chem.purity_wt_percent == 99.999 and chem.ions == {"Pb": 1, "Br": 2}
    assert chem.history.first().history_user == user

    # Editing the formula recomputes the molar mass; the history keeps the old row.
    edit = client_in.post(reverse("chemical-edit", args=[chem.pk]),
                          {**base, "name": "Lead(II) iodide", "formula": "PbI2", "cas": "10101-63-0",
                           "molar_mass_g_mol": "367.01", "ions": '{"Pb": 1, "I": 2}'})
    assert "gives 461.01 g/mol, not 367.01" in edit.content.decode()
    client_in.post(reverse("chemical-edit", args=[chem.pk]),
                   {**base, "name": "Lead(II) iodide", "formula": "PbI2", "cas": "10101-63-0", "ions": '{"Pb": 1, "I": 2}'})
    chem.refresh_from_db()
    assert chem.molar_mass_g_mol == pytest.approx(207.2 + 2 * 126.904, abs=0.01)
    assert chem.history.count() == 2


def test_lot_create_and_edit_on_the_chemical_page(client_in, user, chemical):
    page = client_in.get(reverse("chemical-detail", args=[chemical.pk])).content.decode()
    assert 'id="add-lot"' in page and reverse("lot-create", args=[chemical.pk]) in page
    url = reverse("lot-create", args=[chemical.pk])
    base = {"lot_number": "MKCQ-42", "supplier": "Sigma", "catalog_number": "", "received_on": "2026-01-10",
            "opened_on": "", "expires_on": "2026-01-01", "location": "Glovebox 1", "amount_left": "25",
            "amount_unit": "g", "is_active": "on"}
    refused = client_in.post(url, base)
    assert "Expires before it was received." in refused.content.decode()
    no_unit = client_in.post(url, {**base, "expires_on": "2027-01-01", "amount_unit": ""})
    assert "A quantity needs its unit." in no_unit.content.decode()
    assert client_in.post(url, {**base, "expires_on": "2027-01-01"}).status_code == 302
    lot = ChemicalLot.objects.get(lot_number="MKCQ-42")
    assert (lot.chemical, lot.amount_left, lot.amount_unit, lot.expires_on) == (chemical, 25.0, "g", dt.date(2027, 1, 1))
    assert lot.history.first().history_user == user
    duplicate = client_in.post(url, {**base, "expires_on": "2027-01-01"})
    assert duplicate.status_code == 200 and "already exists" in duplicate.content.decode()

    response = client_in.post(reverse("lot-edit", args=[lot.pk]), {**base, "expires_on": "2025-06-01",
                                                                   "received_on": "2025-01-01", "amount_left": "20,5"})
    assert response.status_code == 302
    lot.refresh_from_db()
    assert lot.amount_left == 20.5 and lot.expires_on == dt.date(2025, 6, 1)
    page = client_in.get(reverse("chemical-detail", args=[chemical.pk])).content.decode()
    assert "expired" in page and "20.5 g" in page


def test_a_lot_below_zero_can_still_be_edited(client_in, chemical):
    lot = ChemicalLot.objects.create(chemical=chemical, supplier="TCI", lot_number="NEG-1", amount_left=-2.5,
                                     amount_unit="g")
    data = {"lot_number": "NEG-1", "supplier": "TCI", "catalog_number": "", "received_on": "", "opened_on": "",
            "expires_on": "2027-01-01", "location": "Shelf B", "amount_left": "-2.5", "amount_unit": "g", "is_active": "on"}
    assert client_in.post(reverse("lot-edit", args=[lot.pk]), data).status_code == 302
    lot.refresh_from_db()
    assert lot.location == "Shelf B" and lot.amount_left == -2.5


def test_instrument_accounts_get_403_on_every_authoring_page(client, instrument, chemical, version):
    client.force_login(instrument)
    lot = chemical.lots.first()
    urls = [reverse("recipe-create"), reverse("recipe-version-edit", args=[version.pk]),
            reverse("recipe-revise", args=[version.pk]), reverse("chemical-create"),
            reverse("chemical-edit", args=[chemical.pk]), reverse("lot-create", args=[chemical.pk]),
            reverse("lot-edit", args=[lot.pk])]
    for url in urls:
        for method in (client.get, client.post):
            response = method(url, {})
            assert response.status_code == 403, url
            assert "Instrument accounts may only upload" in response.content.decode()
    assert client.get(reverse("recipe-list")).status_code == 200  # reading stays open
    assert 'id="add-lot"' not in client.get(reverse("chemical-detail", args=[chemical.pk])).content.decode()
    assert Recipe.objects.count() == 1 and RecipeVersion.objects.count() == 1


def test_signed_out_visitors_go_to_the_login_page(client, chemical):
    for url in (reverse("recipe-create"), reverse("chemical-create"), reverse("lot-create", args=[chemical.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_lists_and_the_nav_link_to_the_authoring_pages(client_in, chemical):
    recipes = client_in.get(reverse("recipe-list")).content.decode()
    chemicals = client_in.get(reverse("chemical-list")).content.decode()
    assert f'href="{reverse("recipe-create")}"' in recipes and f'href="{reverse("chemical-create")}"' in chemicals
    home = client_in.get(reverse("home")).content.decode()
    assert f'href="{reverse("recipe-create")}"' in home and f'href="{reverse("chemical-create")}"' in home


def test_a_truncated_post_is_refused_with_a_reason_not_a_500(client_in, chemical):
    response = client_in.post(reverse("recipe-create"), {"recipe-name": "X", "add_param": "zero"})
    assert response.status_code == 200 and "ManagementForm data is missing" in response.content.decode()
    assert not Recipe.objects.exists()
