"""Stoichiometry engine against the hand-checked numbers of PROCESS.md §1–5
(Liu, Dong et al., JACS 2021, doi 10.1021/jacs.1c02148)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recipes.chemistry import (
    ChemistryError,
    Reagent,
    coherence_length_nm,
    component,
    component_from_dict,
    components_from_dicts,
    composition,
    cs_oleate,
    default_library,
    hot_injection_ratios,
    ligand_dose,
    scale_to_volume,
    solve,
)

REL = 1e-3  # PROCESS.md tolerance: 0.1 %

SECTION_4_TARGETS = {"halide_fractions": {"Br": 0.4, "I": 0.6}, "n": 3, "b_molarity": 0.4,
                     "a_site": {"Cs": 0.8, "MA": 0.2}, "spacer": "PEA", "volume_ml": 1.5}
SECTION_4_REAGENTS = ["PbBr2", "PbI2", "CsI", "MAI", "PEAI"]
SECTION_4_MG = {"PbBr2": 146.80, "PbI2": 92.20, "CsI": 83.14, "MAI": 12.72, "PEAI": 99.64}
SECTION_4_MMOL = {"PbBr2": 0.40, "PbI2": 0.20, "CsI": 0.32, "MAI": 0.08, "PEAI": 0.40}


@pytest.fixture
def library():
    return default_library()


# --- molar masses and amounts ------------------------------------------------------------------
@pytest.mark.parametrize(("name", "molar_mass"), [
    ("Cs2CO3", 325.82), ("Mn(Ac)2·4H2O", 245.09), ("PbI2", 461.01), ("ZnI2", 319.19),
])
def test_molar_masses_of_process_md(library, name, molar_mass):
    assert library.get(name).molar_mass_g_mol == pytest.approx(molar_mass, rel=REL)


def test_abbreviations_are_not_read_as_peptides(library):
    # molmass alone reads "MAI" as Met-Ala-Ile (333 g/mol); the alias table must win
    assert library.get("MAI").molar_mass_g_mol == pytest.approx(158.97, rel=1e-4)


@pytest.mark.parametrize(("reagent", "value", "unit", "mmol"), [
    ("Mn(Ac)2·4H2O", 300, "mg", 1.2241), ("PbI2", 200, "mg", 0.4338), ("ZnI2", 360, "mg", 1.1279),
    ("HI", 300, "µL", 2.273), ("HI", 0.3, "mL", 2.273), ("Cs2CO3", 0.3, "g", 0.9208),
    ("PbBr2", 0.0004, "mol", 0.4),
])
def test_amounts_of_process_md_2(library, reagent, value, unit, mmol):
    assert component(reagent, value, unit, library=library).amount_mmol == pytest.approx(mmol, rel=REL)


def test_liquid_component_reports_volume_and_solution_mass(library):
    hi = component_from_dict({"reagent": "HI", "ul": 300}, library)
    assert hi.volume_ul == pytest.approx(300)
    assert hi.mass_mg == pytest.approx(510.0)  # 0.300 mL × 1.70 g/mL of 57 wt % solution


# --- §3 ligand doses ---------------------------------------------------------------------------
@pytest.mark.parametrize(("reagent", "stock_mg_ml", "volume_ml", "mg", "mmol"), [
    ("IPAI", 250, 0.1, 25.0, 0.1337), ("IPAI", 250, 0.05, 12.5, 0.0668), ("KI", 200, 0.05, 10.0, 0.0602),
])
def test_ligand_dose_per_iteration(library, reagent, stock_mg_ml, volume_ml, mg, mmol):
    dose = ligand_dose(reagent, stock_mg_ml, volume_ml, library=library)
    assert dose.mass_mg == pytest.approx(mg, rel=REL)
    assert dose.amount_mmol == pytest.approx(mmol, rel=REL)


def test_stock_component_dict(library):
    ipai = component_from_dict({"reagent": "IPAI", "stock_mg_ml": 250, "ml": 0.1}, library)
    ki = component_from_dict({"reagent": "KI", "stock_mg_ml": 200, "ul": 50}, library)
    assert ipai.amount_mmol == pytest.approx(0.1337, rel=REL)
    assert ki.amount_mmol == pytest.approx(0.0602, rel=REL)


# --- §1 Cs-oleate, §2 hot injection ------------------------------------------------------------
def test_cs_oleate_molarity_and_injection():
    stock = cs_oleate(cs2co3_mg=300, oleic_acid_ml=1.2, ode_ml=3.2)
    assert stock.cs2co3_mmol == pytest.approx(0.9208, rel=REL)
    assert stock.cs_mmol == pytest.approx(1.8415, rel=REL)
    assert stock.cs_molarity_m == pytest.approx(0.4185, rel=REL)
    assert stock.cs_delivered_mmol(0.85) == pytest.approx(0.356, rel=REL)
    assert stock.cs_delivered_mmol(0.8) == pytest.approx(0.335, rel=REL)
    assert stock.cs_delivered_mmol(0.9) == pytest.approx(0.377, rel=REL)


def test_hot_injection_nominal_ratios(library):
    ratios = hot_injection_ratios([
        {"reagent": "Mn(Ac)2·4H2O", "mg": 300}, {"reagent": "PbI2", "mg": 200}, {"reagent": "ZnI2", "mg": 360},
        {"reagent": "OAc", "ml": 4}, {"reagent": "OAm", "ml": 4}, {"reagent": "ODE", "ml": 8},
        {"reagent": "HI", "ul": 300},
    ], library=library)
    assert ratios.mn_to_pb == pytest.approx(2.82, rel=REL)
    assert ratios.iodide_from_metal_halides_mmol == pytest.approx(3.123, rel=REL)
    assert ratios.iodide_from_acid_mmol == pytest.approx(2.273, rel=REL)
    assert ratios.i_to_pb == pytest.approx((3.123 + 2.273) / 0.4338, rel=REL)


# --- §4 forward --------------------------------------------------------------------------------
def section_4_components():
    return [{"reagent": "PbBr2", "mmol": 0.4}, {"reagent": "PbI2", "mg": 92.20}, {"reagent": "CsI", "mg": 83.14},
            {"reagent": "MAI", "mg": 12.72}, {"reagent": "PEAI", "mmol": 0.4}]


def test_section_4_forward(library):
    result = composition(section_4_components(), solvent_ml=1.5, library=library)
    assert result.ion_molarities_m["Pb"] == pytest.approx(0.400, rel=REL)
    assert result.halide_fractions["Br"] == pytest.approx(0.400, rel=REL)
    assert result.ratios["X/B"] == pytest.approx(10 / 3, rel=REL)
    assert result.ratios["spacer/B"] == pytest.approx(2 / 3, rel=REL)
    assert result.ratios["A/B"] == pytest.approx(2 / 3, rel=REL)
    assert result.n == pytest.approx(3, rel=REL)
    assert result.a_site_fractions == pytest.approx({"Cs": 0.8, "MA": 0.2}, rel=REL)
    assert result.formula == "PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10"
    assert result.warnings == []
    for line in result.components:
        assert line.mass_mg == pytest.approx(SECTION_4_MG[line.reagent.name], rel=REL)


def test_forward_to_dict_is_json(library):
    payload = composition(section_4_components(), 1.5, library=library).to_dict()
    text = json.dumps(payload)
    assert json.loads(text)["formula"] == "PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10"
    assert set(payload["components"][0]) >= {"reagent", "mmol", "mg", "molar_mass_g_mol"}
    assert payload["n"] == pytest.approx(3, rel=REL)
    assert payload["ion_molarities_M"]["Pb"] == pytest.approx(0.4, rel=REL)


def test_3d_has_infinite_n_and_null_in_json(library):
    result = composition([{"reagent": "PbI2", "mmol": 1}, {"reagent": "CsI", "mmol": 1}], 1.0, library=library)
    assert math.isinf(result.n)
    assert result.formula == "CsPbI3"
    assert result.to_dict()["n"] is None


def test_charge_imbalance_is_warned_with_the_amount(library):
    result = composition([{"reagent": "PbI2", "mmol": 1}, {"reagent": "Cs2CO3", "mmol": 0.5}], 1.0, library=library)
    assert len(result.warnings) == 1
    assert "off by 1 mmol" in result.warnings[0]
    assert "Cs2CO3" in result.warnings[0]


def test_scaling_to_another_volume_keeps_molarities(library):
    parts = components_from_dicts(section_4_components(), library)
    small = scale_to_volume(parts, 1.5, 0.5)
    assert small[0].mass_mg == pytest.approx(146.80 / 3, rel=REL)
    assert composition(small, 0.5, library=library).ion_molarities_m["Pb"] == pytest.approx(0.4, rel=REL)


# --- §4 inverse --------------------------------------------------------------------------------
def test_section_4_inverse(library):
    plan = solve(SECTION_4_TARGETS, SECTION_4_REAGENTS, library)
    assert plan.mass_mg == pytest.approx(SECTION_4_MG, rel=REL)
    assert plan.amount_mmol == pytest.approx(SECTION_4_MMOL, rel=REL)
    assert plan.composition.formula == "PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10"
    json.dumps(plan.to_dict())


def test_inverse_with_spacer_ratio_instead_of_n(library):
    targets = {**SECTION_4_TARGETS, "spacer_ratio": 2 / 3}
    del targets["n"]
    assert solve(targets, SECTION_4_REAGENTS, library).mass_mg == pytest.approx(SECTION_4_MG, rel=REL)


def test_missing_bromide_source(library):
    with pytest.raises(ChemistryError, match="no bromide source among PbI2, CsI, MAI, PEAI"):
        solve(SECTION_4_TARGETS, ["PbI2", "CsI", "MAI", "PEAI"], library)


def test_inconsistent_targets_name_the_target(library):
    # with PbBr2 as the only lead salt, Br/(Br+I) is fixed at 0.6 for n = 3
    with pytest.raises(ChemistryError, match="over-constrained/inconsistent.*halide fractions cannot be met"):
        solve(SECTION_4_TARGETS, ["PbBr2", "CsI", "MAI", "PEAI"], library)


def test_underdetermined_reagent_set_is_refused_then_fixable(library):
    reagents = ["PbBr2", "PbI2", "CsI", "CsBr", "MAI", "PEAI"]
    with pytest.raises(ChemistryError, match="do not fix a unique recipe.*PbI2 \\+ 2 CsBr"):
        solve(SECTION_4_TARGETS, reagents, library)
    plan = solve(SECTION_4_TARGETS, reagents, library, fixed_mmol={"CsBr": 0})
    assert plan.mass_mg["PbBr2"] == pytest.approx(146.80, rel=REL)


def test_target_errors(library):
    with pytest.raises(ChemistryError, match="add up to 0.9"):
        solve({**SECTION_4_TARGETS, "halide_fractions": {"Br": 0.4, "I": 0.5}}, SECTION_4_REAGENTS, library)
    with pytest.raises(ChemistryError, match="at least 1"):
        solve({**SECTION_4_TARGETS, "n": 0.5}, SECTION_4_REAGENTS, library)
    with pytest.raises(ChemistryError, match="unknown target"):
        solve({**SECTION_4_TARGETS, "bmolarity": 1}, SECTION_4_REAGENTS, library)


# --- §5 coherence length -----------------------------------------------------------------------
@pytest.mark.parametrize(("radius_nm", "length_nm"), [(2.0, 1.764), (2.5, 2.205)])
def test_coherence_length(radius_nm, length_nm):
    assert coherence_length_nm(0.15, radius_nm) == pytest.approx(length_nm, rel=REL)


def test_coherence_length_percent_mistake():
    with pytest.raises(ChemistryError, match="give 15 % as 0.15"):
        coherence_length_nm(15, 2.0)


# --- library and unit mistakes -----------------------------------------------------------------
def test_unknown_reagent_suggests(library):
    with pytest.raises(ChemistryError) as info:
        library.get("PEAJ")
    assert str(info.value) == "unknown reagent 'PEAJ' — did you mean PEAI? Add it with its formula in Chemicals"


def test_lookup_is_forgiving_about_spelling(library):
    assert library.get("PbI₂").name == "PbI2"
    assert library.get("pbbr2").name == "PbBr2"
    assert library.get("Mn(Ac)2.4H2O").name == "Mn(Ac)2·4H2O"


def test_library_extends_with_database_rows(library):
    library.extend([
        {"name": "guanidinium iodide", "abbreviation": "GAI", "formula": "C(NH2)3I", "ions": {"MA": 1, "I": 1}},
        {"name": "tin(II) fluoride", "abbreviation": "SnF2", "formula": "SnF2", "ions": {}},
        {"abbreviation": "PbI2", "formula": "PbI2", "purity_wt_percent": 99.0},  # the lab's lot overrides
        Reagent.from_formula("RbBr", "RbBr"),
    ])
    assert library.get("GAI").molar_mass_g_mol == pytest.approx(186.98, rel=REL)
    assert library.get("guanidinium iodide").name == "GAI"
    assert library.get("PbI2").purity_wt_percent == 99.0
    assert dict(library.get("RbBr").ions) == {"Rb": 1.0, "Br": 1.0}
    assert component("PbI2", 99.0 * 461.01 / 99.0, "mg", library=library).amount_mmol == pytest.approx(0.99, rel=REL)


def test_unknown_ion_in_split_is_refused(library):
    with pytest.raises(ChemistryError, match="unknown ion 'GA'"):
        library.add({"abbreviation": "GAI", "formula": "C(NH2)3I", "ions": {"GA": 1, "I": 1}})


@pytest.mark.parametrize(("row", "message"), [
    ({"reagent": "PbBr2", "ul": 30}, "PbBr2 is not a liquid on record \\(no density\\)"),
    ({"reagent": "PbBr2", "mgg": 30}, "unknown unit 'mgg'"),
    ({"reagent": "PbBr2", "mg": -3}, "cannot be negative"),
    ({"reagent": "PbBr2", "mg": 3, "mmol": 1}, "exactly one amount"),
    ({"reagent": "PbBr2"}, "exactly one amount"),
    ({"reagent": "PbBr2", "mg": "lots"}, "must be a number"),
    ({"reagent": "IPAI", "stock_mg_ml": 250}, "stock solution needs stock_mg_ml and one volume"),
    ({"reagent": "PEAJ", "mg": 3}, "did you mean PEAI"),
])
def test_unit_mistakes(library, row, message):
    with pytest.raises(ChemistryError, match=message):
        component_from_dict(row, library)


def test_component_errors_name_the_position(library):
    with pytest.raises(ChemistryError, match="component 2: PbBr2: unknown unit 'mgg'"):
        components_from_dicts([{"reagent": "PbI2", "mg": 1}, {"reagent": "PbBr2", "mgg": 1}], library)


# --- properties --------------------------------------------------------------------------------
@st.composite
def feasible_section_4_targets(draw):
    """Targets the five §4 salts can reach: with PbBr2 the only bromide source,
    Br ≤ 2·B, i.e. Br/(Br+I) ≤ 2n/(3n+1)."""
    n = draw(st.floats(min_value=1.0, max_value=12.0))
    bromide = draw(st.floats(min_value=0.0, max_value=2 * n / (3 * n + 1)))
    cesium = draw(st.floats(min_value=0.0, max_value=1.0))
    return {"halide_fractions": {"Br": bromide, "I": 1 - bromide}, "n": n,
            "b_molarity": draw(st.floats(min_value=0.05, max_value=1.5)),
            "a_site": {"Cs": cesium, "MA": 1 - cesium}, "spacer": "PEA",
            "volume_ml": draw(st.floats(min_value=0.1, max_value=10.0))}


@settings(max_examples=80, deadline=None)
@given(targets=feasible_section_4_targets())
def test_forward_of_inverse_returns_the_targets(targets):
    made = solve(targets, SECTION_4_REAGENTS, default_library()).composition
    n = targets["n"]
    assert made.halide_fractions.get("Br", 0.0) == pytest.approx(targets["halide_fractions"]["Br"], abs=1e-6)
    assert made.b_molarity_m == pytest.approx(targets["b_molarity"], rel=1e-6)
    assert made.n == pytest.approx(n, rel=1e-6)
    assert made.ratios["A/B"] == pytest.approx((n - 1) / n, abs=1e-6)
    assert made.ratios["X/B"] == pytest.approx((3 * n + 1) / n, rel=1e-6)
    if n > 1.001:  # at n = 1 (pure 2D) there is no A site to mix
        assert made.a_site_fractions.get("Cs", 0.0) == pytest.approx(targets["a_site"]["Cs"], abs=1e-6)
    assert made.warnings == []  # charge-balanced by construction


@settings(max_examples=40, deadline=None)
@given(factor=st.floats(min_value=0.05, max_value=20.0))
def test_solved_amounts_scale_linearly_with_volume(factor):
    library = default_library()
    base = solve(SECTION_4_TARGETS, SECTION_4_REAGENTS, library).mass_mg
    scaled = solve({**SECTION_4_TARGETS, "volume_ml": 1.5 * factor}, SECTION_4_REAGENTS, library).mass_mg
    assert scaled == pytest.approx({k: v * factor for k, v in base.items()}, rel=1e-9)
