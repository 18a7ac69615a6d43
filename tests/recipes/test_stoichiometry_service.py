"""recipes.stoichiometry on the demo recipes of PROCESS.md (Liu, Dong et al., JACS 2021): the
"what is in it" and "what to weigh" tables of recipe versions and runs, within 0.1 %."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from portal.demo import _chemicals, _recipes
from recipes.chemistry import ChemistryError
from recipes.chemistry_bridge import molar_mass_from_formula
from recipes.models import Chemical
from recipes.services import recipe_parameter_update
from recipes.stoichiometry import library_from_db, version_composition
from samples.models import Project
from samples.services import run_plan, run_record_actuals
from samples.stoichiometry import run_composition

REL = 1e-3  # PROCESS.md tolerance
SECTION_4_MG = {"PbBr2": 146.80, "PbI2": 92.20, "CsI": 83.14, "MAI": 12.72, "PEAI": 99.64}
MATRIX_ACTUALS = {"1.pbbr2": (146.9, "mg"), "1.pbi2": (92.1, "mg"), "1.csi": (83.2, "mg"), "1.mai": (12.7, "mg"),
                  "1.peai": (99.7, "mg"), "2.dmso": (1.5, "mL")}

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    return _recipes(_chemicals(), None)


@pytest.fixture
def project():
    return Project.objects.create(code="stoich", name="Stoichiometry")


def contents(result) -> dict:
    return {row["key"]: row for row in result["contents"]}


def weighed_mg(result) -> dict:
    return {row["reagent"]: row["mg"] for row in result["weigh"]}


# --- chemistry_bridge ------------------------------------------------------------------------------

@pytest.mark.parametrize(("formula", "molar_mass"), [
    ("CH3NH3I", 158.97), ("MAI", 158.97), ("PEAI", 249.09), ("C6H5CH2CH2NH3I", 249.09),
    ("Mn(Ac)2·4H2O", 245.09), ("Mn(C2H3O2)2(H2O)4", 245.09), ("PbI₂", 461.01), ("DMSO", 78.13),
])
def test_molar_mass_from_formula_reads_lab_abbreviations(formula, molar_mass):
    # molmass alone reads "MAI" as Met-Ala-Ile (333 g/mol) and "Ac" as actinium
    assert molar_mass_from_formula(formula) == pytest.approx(molar_mass, rel=REL)


def test_molar_mass_from_formula_error_is_a_value_error_for_the_model_form():
    with pytest.raises(ValueError, match="cannot read formula 'Pb2Xq'"):
        molar_mass_from_formula("Pb2Xq")


def test_chemical_clean_fills_molar_mass_of_an_abbreviation():
    chemical = Chemical(name="Methylammonium iodide (lab)", abbreviation="MAI2", formula="MAI")
    chemical.full_clean()
    assert chemical.molar_mass_g_mol == pytest.approx(158.97, rel=REL)


# --- library_from_db -------------------------------------------------------------------------------

def test_library_from_db_uses_one_query_and_completes_counter_ions(demo, django_assert_num_queries):
    with django_assert_num_queries(1):
        library = library_from_db()
    # the demo records HI as {"I": 1}; the built-in split adds the proton that leaves the film
    assert dict(library.get("HI").ions) == {"H": 1.0, "I": 1.0}
    assert library.get("Toluene").name == "Tol"  # a lab abbreviation is found by the chemical's name too


def test_bad_chemical_row_says_why_instead_of_unknown_reagent(demo, project):
    Chemical.objects.filter(abbreviation="CsI").update(ions={"Xx": 1})
    result = version_composition(demo["matrix"])
    assert result["error"].startswith("CsI cannot be used in stoichiometry")
    assert "unknown ion 'Xx'" in result["error"]


# --- recipe versions -------------------------------------------------------------------------------

def test_matrix_precursor_what_is_in_it(demo):
    result = version_composition(demo["matrix"])
    assert result["kind"] == "solution" and result["error"] is None
    rows = contents(result)
    assert rows["ion:Pb"]["value"] == pytest.approx(0.400, rel=REL)
    assert rows["ion:Pb"]["unit"] == "M"
    assert rows["halide:Br"]["value"] == pytest.approx(0.400, rel=REL)
    assert rows["ratio:X/B"]["value"] == pytest.approx(10 / 3, rel=REL)
    assert rows["ratio:spacer/B"]["value"] == pytest.approx(2 / 3, rel=REL)
    assert rows["ratio:A/B"]["value"] == pytest.approx(2 / 3, rel=REL)
    assert rows["a_site:Cs"]["value"] == pytest.approx(0.8, rel=REL)
    assert result["n"] == pytest.approx(3, rel=REL)
    assert rows["n"]["value_text"] == "3"
    assert result["formula"] == "PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10"
    assert result["volume_ml"] == pytest.approx(1.5) and result["solvent"] == "DMSO"
    assert result["warnings"] == []
    assert all(row["unit"] or row["key"] == "formula" for row in result["contents"])


@pytest.mark.parametrize(("volume", "factor"), [(None, 1), (1.5, 1), (3.0, 2), ("3,0", 2), ("0.75", 0.5)])
def test_matrix_precursor_what_to_weigh_scales_with_volume(demo, volume, factor):
    result = version_composition(demo["matrix"], volume)
    assert result["volume_ml"] == pytest.approx(1.5 * factor)
    for reagent, mg in weighed_mg(result).items():
        assert mg == pytest.approx(SECTION_4_MG[reagent] * factor, rel=REL), reagent
    # molarities do not change with the batch size
    assert contents(result)["ion:Pb"]["value"] == pytest.approx(0.400, rel=REL)
    rows = {row["reagent"]: row for row in result["weigh"]}
    assert rows["PbBr2"]["molar_mass_g_mol"] == pytest.approx(367.01, rel=REL)
    assert rows["PbBr2"]["text"]["mg"] == f"{146.80 * factor:.2f}"
    assert rows["PEAI"]["mmol"] == pytest.approx(0.40 * factor, rel=REL)


@pytest.mark.parametrize("volume", ["abc", "-1", 0])
def test_bad_volume_is_reported_and_the_recipe_volume_shown(demo, volume):
    result = version_composition(demo["matrix"], volume)
    assert "volume must be" in result["volume_error"]
    assert result["volume_ml"] == pytest.approx(1.5)
    assert result["error"] is None


def test_cs_oleate_molarity(demo):
    result = version_composition(demo["cs_oleate"])
    assert result["kind"] == "cs_oleate" and result["error"] is None
    rows = contents(result)
    assert rows["ion:Cs"]["value"] == pytest.approx(0.4185, rel=REL)
    assert rows["cs_mmol"]["value"] == pytest.approx(1.8415, rel=REL)
    assert rows["cs2co3_mmol"]["value"] == pytest.approx(0.9208, rel=REL)
    assert weighed_mg(version_composition(demo["cs_oleate"], 8.8)) == pytest.approx({"Cs2CO3": 600.0})


def test_qd_synthesis_ratios(demo):
    result = version_composition(demo["qd"])
    assert result["kind"] == "hot_injection" and result["error"] is None
    assert not result["scalable"]
    rows = contents(result)
    assert rows["ratio:Mn"]["value"] == pytest.approx(2.82, rel=REL)
    assert rows["pb_mmol"]["value"] == pytest.approx(0.4338, rel=REL)
    assert rows["iodide_metal_halides"]["value"] == pytest.approx(3.123, rel=REL)
    assert rows["iodide_acid"]["value"] == pytest.approx(2.273, rel=REL)
    assert rows["ratio:I"]["value"] == pytest.approx((3.123 + 2.273) / 0.4338, rel=REL)
    hi = next(row for row in result["weigh"] if row["reagent"] == "HI")
    assert hi["ul"] == pytest.approx(300) and hi["mmol"] == pytest.approx(2.273, rel=REL)


def test_ligand_dose_per_iteration(demo):
    result = version_composition(demo["ligand"])
    assert result["kind"] == "ligand_treatment" and result["error"] is None
    doses = [(d["reagent"], d["mg"], d["mmol"]) for d in result["details"]["doses"]]
    expected = [("IPAI", 25.0, 0.1337), ("IPAI", 12.5, 0.0668), ("KI", 10.0, 0.0602)]
    for (reagent, mg, mmol), (want_reagent, want_mg, want_mmol) in zip(doses, expected, strict=True):
        assert reagent == want_reagent
        assert mg == pytest.approx(want_mg, rel=REL)
        assert mmol == pytest.approx(want_mmol, rel=REL)
    assert result["weigh"][0]["given_as"] == "250 mg/mL × 0.1 mL"


def test_recipe_without_components_has_no_composition(demo):
    assert version_composition(demo["film"]) is None


def test_unit_mistake_is_an_error_for_the_chemist_not_a_500(demo):
    param = demo["matrix"].steps.get(order=1).parameters.get(key="csi")
    recipe_parameter_update(param, unit="mL")  # CsI is a solid: no density on record
    result = version_composition(demo["matrix"])
    assert result["error"].startswith("CsI (step 1): CsI is not a liquid on record (no density)")
    assert result["contents"] == [] and result["weigh"] == []


def test_recipe_without_solvent_volume_says_so(demo):
    param = demo["matrix"].steps.get(order=2).parameters.get(key="dmso")
    recipe_parameter_update(param, role="setting")
    assert "no solvent volume" in version_composition(demo["matrix"])["error"]


# --- runs ------------------------------------------------------------------------------------------

def test_run_with_actual_masses_shows_actual_composition(demo, project, django_assert_max_num_queries):
    run = run_plan(version=demo["matrix"], project=project, batch_volume_ml=1.5)
    run_record_actuals(run, MATRIX_ACTUALS)
    with django_assert_max_num_queries(4):
        result = run_composition(run)
    assert result["is_run"] and result["has_actual"] and result["error"] is None
    pb = contents(result)["ion:Pb"]
    expected_pb = (146.9 / 367.01 + 92.1 / 461.01) / 1.5
    assert pb["value"] == pytest.approx(0.400, rel=REL)
    assert pb["actual"] == pytest.approx(expected_pb, rel=REL)
    assert pb["delta_percent"] == pytest.approx((expected_pb / 0.4 - 1) * 100, abs=0.05)
    br = contents(result)["halide:Br"]["actual"]
    assert br == pytest.approx(2 * 146.9 / 367.01 / (2 * 146.9 / 367.01 + 2 * 92.1 / 461.01 + 83.2 / 259.81
                                                     + 12.7 / 158.97 + 99.7 / 249.09), rel=REL)
    rows = {row["reagent"]: row for row in result["weigh"]}
    assert rows["PbBr2"]["actual_given"] == "146.9 mg"
    assert rows["PbBr2"]["mg"] == pytest.approx(146.80, rel=REL)
    assert rows["PbBr2"]["actual_mg"] == pytest.approx(146.9, rel=REL)
    assert not any(row["is_deviation"] for row in result["weigh"])
    assert result["actual_composition"]["formula"].startswith("PEA2(Cs0.8MA0.2)")


def test_run_batch_volume_scales_the_weigh_table(demo, project):
    run = run_plan(version=demo["matrix"], project=project, batch_volume_ml=3.0)
    result = run_composition(run)
    assert not result["has_actual"]
    for reagent, mg in weighed_mg(result).items():
        assert mg == pytest.approx(2 * SECTION_4_MG[reagent], rel=REL)
    assert contents(result)["ion:Pb"]["actual"] is None


def test_partly_logged_run_assumes_the_plan_for_the_rest_and_says_so(demo, project):
    run = run_plan(version=demo["matrix"], project=project, batch_volume_ml=3.0)
    run_record_actuals(run, {"1.pbbr2": (0.2936, "g")})  # logged in g: shown as logged, compared in mmol
    result = run_composition(run)
    rows = {row["reagent"]: row for row in result["weigh"]}
    assert rows["PbBr2"]["actual_given"] == "0.2936 g"
    assert rows["PbBr2"]["delta_percent"] == pytest.approx(0, abs=0.01)
    assert contents(result)["ion:Pb"]["actual"] == pytest.approx(0.400, rel=REL)
    assert any("PbI₂ (step 1): no actual amount logged" in w for w in result["warnings"])


def test_run_of_a_qd_synthesis_and_a_cs_oleate(demo, project):
    qd = run_plan(version=demo["qd"], project=project)
    run_record_actuals(qd, {"1.mnac": (300.1, "mg"), "1.pbi2": (200.3, "mg"), "1.zni2": (359.8, "mg"), "3.hi": (300, "µL")})
    result = run_composition(qd)
    mn = contents(result)["ratio:Mn"]
    assert mn["value"] == pytest.approx(2.82, rel=REL)
    assert mn["actual"] == pytest.approx((300.1 / 245.09) / (200.3 / 461.01), rel=REL)

    cso = run_plan(version=demo["cs_oleate"], project=project)
    run_record_actuals(cso, {"1.cs2co3": (300.4, "mg"), "1.oac": (1.2, "mL"), "1.ode": (3.2, "mL")})
    cs = contents(run_composition(cso))["ion:Cs"]
    assert cs["value"] == pytest.approx(0.4185, rel=REL)
    assert cs["actual"] == pytest.approx(0.4185 * 300.4 / 300, rel=REL)


# --- the template tag ------------------------------------------------------------------------------

def render(obj, query: str = "") -> str:
    request = RequestFactory().get("/recipes/x/" + query)
    return Template("{% load stoichiometry %}{% composition_tables obj %}").render(Context({"obj": obj, "request": request}))


def test_tag_renders_both_tables_with_units_and_the_volume_form(demo):
    html = render(demo["matrix"], "?volume_ml=3")
    assert "What is in it" in html and "What to weigh" in html
    assert "293.60 mg" in html and "0.4000" in html and "PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10" in html
    assert 'name="volume_ml"' in html and 'value="3"' in html


def test_tag_renders_planned_vs_actual_for_a_run(demo, project):
    run = run_plan(version=demo["matrix"], project=project, batch_volume_ml=1.5)
    run_record_actuals(run, MATRIX_ACTUALS)
    html = render(run)
    assert "Planned" in html and "Actual" in html and "146.9 mg" in html


def test_tag_shows_the_chemistry_error(demo):
    param = demo["matrix"].steps.get(order=1).parameters.get(key="csi")
    recipe_parameter_update(param, unit="mL")
    html = render(demo["matrix"])
    assert "Cannot compute the composition" in html and "not a liquid on record" in html


def test_tag_renders_nothing_without_components(demo):
    assert render(demo["film"]).strip() == ""


def test_chemistry_error_is_a_value_error():
    # models.Chemical.clean catches ValueError around the bridge
    assert issubclass(ChemistryError, ValueError)

