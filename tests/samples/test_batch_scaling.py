"""Issue 14 defect 2: a run planned at 2× batch weighs 293.60 mg PbBr₂ (PROCESS.md §4: 146.80 mg
for 1.5 mL); logging 293.6 mg is inside the plan on the run page, the weigh table, the traveller
and the API — the planned values of a scaled run are the scaled ones everywhere."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from portal.demo import _chemicals, _recipes
from portal.travellers import sheet_for_run
from samples.models import Project
from samples.services import run_plan, run_record_actuals, run_set_conditions
from samples.stoichiometry import run_composition

pytestmark = pytest.mark.django_db
REL = 1e-3


@pytest.fixture
def lab():
    user = get_user_model().objects.create_user("bo", password="pw")
    project = Project.objects.create(code="batch", name="Batch")
    project.members.add(user)
    return user, project, _recipes(_chemicals(), user)


def _value(run, key):
    return run.values.get(parameter__key=key)


def test_double_batch_plans_double_amounts_and_logging_them_is_not_a_deviation(lab):
    user, project, recipes = lab
    run = run_plan(version=recipes["matrix"], project=project, operator=user, batch_volume_ml=3.0)
    assert run.planned_scale == pytest.approx(2.0)
    pbbr2 = _value(run, "pbbr2")
    assert pbbr2.planned_nominal == pytest.approx(293.60, rel=REL) and pbbr2.unit == "mg"
    assert _value(run, "dmso").planned_nominal == pytest.approx(3.0, rel=REL)  # the solvent too
    run_record_actuals(run, {"1.pbbr2": (293.6, "mg"), "1.pbi2": (184.4, "mg"), "2.dmso": (3.0, "mL")})
    assert not _value(run, "pbbr2").is_deviation and not _value(run, "dmso").is_deviation

    # The weigh table: the same 293.60 mg, logged amounts within the plan, recipe vs run volume right.
    result = run_composition(run)
    rows = {row["reagent"]: row for row in result["weigh"]}
    assert rows["PbBr2"]["mg"] == pytest.approx(293.60, rel=REL) and not rows["PbBr2"]["is_deviation"]
    assert (result["recipe_volume_ml"], result["run_volume_ml"]) == (pytest.approx(1.5), 3.0)
    assert result["scale"] == pytest.approx(2.0)

    # The traveller prints the scaled plan, and nothing off.
    sheet = sheet_for_run(run)
    planned = {p.name: p for step in sheet.steps for p in step.parameters}
    assert planned["PbBr₂"].planned == pytest.approx(293.60, rel=REL) and not planned["PbBr₂"].deviation
    assert [round(r.mg, 2) for r in sheet.weigh_table.rows][:2] == [293.60, 184.40]

    # The run page and the API say the same.
    client = APIClient()
    client.force_login(user)
    api = {v["key"]: v for v in client.get(f"/api/v1/runs/{run.pk}/").json()["values"]}
    assert api["pbbr2"]["planned_nominal"] == pytest.approx(293.60, rel=REL) and not api["pbbr2"]["is_deviation"]
    page = client.get(reverse("run-detail", args=[run.pk])).content.decode()
    row = page.split('data-path="1.pbbr2"')[1].split("</tr>")[0]
    assert "293.6 mg" in row and "within range" in row


def test_recipe_amount_at_a_double_batch_is_the_deviation(lab):
    user, project, recipes = lab
    run = run_plan(version=recipes["matrix"], project=project, operator=user, batch_volume_ml=3.0)
    run_record_actuals(run, {"1.pbbr2": (146.8, "mg")})  # the recipe's amount: half of what a 2× batch needs
    assert _value(run, "pbbr2").is_deviation


def test_changing_the_batch_volume_rescales_the_plan_and_rechecks_the_actuals(lab):
    user, project, recipes = lab
    run = run_plan(version=recipes["matrix"], project=project, operator=user, batch_volume_ml=3.0,
                   planned={"1.pbbr2": 147.0})  # a planned override scales with the batch
    assert _value(run, "pbbr2").planned_nominal == pytest.approx(294.0, rel=REL)
    run_record_actuals(run, {"1.pbbr2": (294.0, "mg")})
    run_set_conditions(run, batch_volume_ml=1.5)
    value = _value(run, "pbbr2")
    assert run.planned_scale == pytest.approx(1.0) and value.planned_nominal == pytest.approx(147.0, rel=REL)
    assert value.is_deviation  # 294 mg logged for a 1.5 mL batch
    assert _value(run, "dmso").planned_nominal == pytest.approx(1.5, rel=REL)


def test_settings_and_unscalable_recipes_do_not_scale(lab):
    user, project, recipes = lab
    film = run_plan(version=recipes["film"], project=project, operator=user, batch_volume_ml=3.0)
    assert film.planned_scale == 1.0  # a spin-coating recipe is not made up to a volume
    flask = run_plan(version=recipes["qd"], project=project, operator=user, batch_volume_ml=30.0)
    assert flask.planned_scale == 1.0
