"""POST /api/v1/stoichiometry/ and /api/v1/stoichiometry/solve/ with the payloads of issue 3,
against PROCESS.md §4 (Liu, Dong et al., JACS 2021) within 0.1 %."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.stoich_urls")]

REL = 1e-3
COMPOSITION_URL = "/api/v1/stoichiometry/"
SOLVE_URL = "/api/v1/stoichiometry/solve/"

# Issue 3's payload, with its "…" filled in from PROCESS.md §4.
COMPONENTS = [{"reagent": "PbBr2", "mmol": 0.4}, {"reagent": "CsI", "mg": 83.14}, {"reagent": "PbI2", "mg": 92.20},
              {"reagent": "MAI", "mg": 12.72}, {"reagent": "PEAI", "mg": 99.64}]
TARGETS = {"halide_fractions": {"Br": 0.4, "I": 0.6}, "n": 3, "b_molarity": 0.4, "a_site": {"Cs": 0.8, "MA": 0.2},
           "spacer": "PEA", "volume_ml": 1.5}
REAGENTS = ["PbBr2", "PbI2", "CsI", "MAI", "PEAI"]
SECTION_4_MG = {"PbBr2": 146.80, "PbI2": 92.20, "CsI": 83.14, "MAI": 12.72, "PEAI": 99.64}
SECTION_4_MMOL = {"PbBr2": 0.40, "PbI2": 0.20, "CsI": 0.32, "MAI": 0.08, "PEAI": 0.40}
MOLAR_MASS = {"PbBr2": 367.01, "PbI2": 461.01, "CsI": 259.81, "MAI": 158.97, "PEAI": 249.09}


@pytest.fixture
def api():
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("chemist", password="pw-for-tests"))
    return client


def error_of(response, code: str) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["code"] == code, body
    return body["error"]["message"]


# --- forward ---------------------------------------------------------------------------------------

def test_composition_of_the_matrix_precursor(api):
    response = api.post(COMPOSITION_URL, {"components": COMPONENTS, "solvent_ml": 1.5}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ion_molarities_M"]["Pb"] == pytest.approx(0.400, rel=REL)
    assert body["ion_molarities_M"]["Br"] == pytest.approx(0.800 / 1.5, rel=REL)
    assert body["halide_fractions"]["Br"] == pytest.approx(0.400, rel=REL)
    assert body["ratios"]["X/B"] == pytest.approx(3.333, rel=REL)
    assert body["ratios"]["spacer/B"] == pytest.approx(0.667, rel=REL)
    assert body["ratios"]["A/B"] == pytest.approx(0.667, rel=REL)
    assert body["a_site_fractions"] == pytest.approx({"Cs": 0.8, "MA": 0.2}, rel=REL)
    assert body["n"] == pytest.approx(3, rel=REL)
    assert body["formula"] == "PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10"
    for row in body["components"]:
        name = row["reagent"]
        assert row["mmol"] == pytest.approx(SECTION_4_MMOL[name], rel=REL), name
        assert row["mg"] == pytest.approx(SECTION_4_MG[name], rel=REL), name
        assert row["molar_mass_g_mol"] == pytest.approx(MOLAR_MASS[name], rel=REL), name
    assert body["warnings"] == []


def test_composition_accepts_liquids_stocks_and_unit_spellings(api):
    components = [{"reagent": "PbI2", "amount": 200, "unit": "mg"}, {"reagent": "HI", "µL": 300},
                  {"reagent": "IPAI", "stock_mg_ml": 250, "mL": 0.1}]
    response = api.post(COMPOSITION_URL, {"components": components, "solvent_ml": 16}, format="json")
    assert response.status_code == 200, response.content
    mmol = {row["reagent"]: row["mmol"] for row in response.json()["components"]}
    assert mmol == pytest.approx({"PbI2": 0.4338, "HI": 2.273, "IPAI": 0.1337}, rel=REL)


def test_unknown_reagent_names_it_and_suggests(api):
    components = [*COMPONENTS[:-1], {"reagent": "PEAl", "mg": 99.64}]
    message = error_of(api.post(COMPOSITION_URL, {"components": components, "solvent_ml": 1.5}, format="json"),
                       "chemistry")
    assert message.startswith("component 5: unknown reagent 'PEAl' — did you mean ")
    assert message.endswith("Add it with its formula in Chemicals")


def test_unit_mistake_a_solid_in_microlitres(api):
    components = [{"reagent": "CsI", "ul": 83.14}]
    message = error_of(api.post(COMPOSITION_URL, {"components": components, "solvent_ml": 1.5}, format="json"),
                       "chemistry")
    assert message.startswith("component 1: CsI is not a liquid on record (no density)")


def test_unit_mistake_an_unknown_unit_key(api):
    components = [{"reagent": "PbBr2", "kg": 0.1468}]
    response = api.post(COMPOSITION_URL, {"components": components, "solvent_ml": 1.5}, format="json")
    message = error_of(response, "invalid")
    assert message.startswith("components[1].kg: unknown unit 'kg'; use one of mg, g, mmol")
    assert "components" in response.json()["error"]["fields"]


def test_two_amounts_for_one_component(api):
    components = [{"reagent": "PbBr2", "mg": 146.8, "mmol": 0.4}]
    message = error_of(api.post(COMPOSITION_URL, {"components": components, "solvent_ml": 1.5}, format="json"),
                       "chemistry")
    assert "give exactly one amount" in message


def test_missing_solvent_volume_is_a_validation_error(api):
    message = error_of(api.post(COMPOSITION_URL, {"components": COMPONENTS}, format="json"), "invalid")
    assert message.startswith("solvent_ml:")


def test_the_labs_own_chemicals_extend_the_library(api):
    from recipes.models import Chemical

    Chemical.objects.create(name="Octylammonium iodide", abbreviation="OAI", formula="C8H17NH3I", molar_mass_g_mol=257.16,
                            ions={"BA": 1, "I": 1})  # booked as a generic spacer by this lab
    response = api.post(COMPOSITION_URL, {"components": [{"reagent": "OAI", "mmol": 0.1}], "solvent_ml": 1},
                        format="json")
    assert response.status_code == 200, response.content
    assert response.json()["components"][0]["mg"] == pytest.approx(25.716, rel=REL)


# --- inverse ---------------------------------------------------------------------------------------

def test_solve_gives_the_section_4_masses(api):
    response = api.post(SOLVE_URL, {"targets": TARGETS, "reagents": REAGENTS}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert {row["reagent"] for row in body["components"]} == set(REAGENTS)
    for row in body["components"]:
        name = row["reagent"]
        assert row["mg"] == pytest.approx(SECTION_4_MG[name], rel=REL), name
        assert row["mmol"] == pytest.approx(SECTION_4_MMOL[name], rel=REL), name
    assert body["composition"]["formula"] == "PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10"
    assert body["volume_ml"] == pytest.approx(1.5)


def test_solve_scales_with_volume(api):
    response = api.post(SOLVE_URL, {"targets": {**TARGETS, "volume_ml": 3.0}, "reagents": REAGENTS}, format="json")
    mg = {row["reagent"]: row["mg"] for row in response.json()["components"]}
    assert mg == pytest.approx({k: 2 * v for k, v in SECTION_4_MG.items()}, rel=REL)


def test_solve_impossible_target_names_the_missing_source(api):
    response = api.post(SOLVE_URL, {"targets": TARGETS, "reagents": ["PbI2", "CsI", "MAI", "PEAI"]}, format="json")
    assert error_of(response, "chemistry") == "no bromide source among PbI2, CsI, MAI, PEAI"


def test_solve_unknown_reagent(api):
    response = api.post(SOLVE_URL, {"targets": TARGETS, "reagents": ["PbBr2", "PbI2", "CsI", "MAI", "PEAJ"]},
                        format="json")
    assert error_of(response, "chemistry").startswith("unknown reagent 'PEAJ'")


def test_solve_fractions_that_do_not_add_up(api):
    targets = {**TARGETS, "halide_fractions": {"Br": 0.4, "I": 0.5}}
    message = error_of(api.post(SOLVE_URL, {"targets": targets, "reagents": REAGENTS}, format="json"), "chemistry")
    assert message == "halide_fractions add up to 0.9, not 1"


def test_solve_validation_error_names_the_field(api):
    targets = {key: value for key, value in TARGETS.items() if key != "b_molarity"}
    response = api.post(SOLVE_URL, {"targets": targets, "reagents": REAGENTS}, format="json")
    assert error_of(response, "invalid").startswith("targets.b_molarity:")
    assert "b_molarity" in response.json()["error"]["fields"]["targets"]


# --- access and schema -----------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "payload"), [
    (COMPOSITION_URL, {"components": COMPONENTS, "solvent_ml": 1.5}),
    (SOLVE_URL, {"targets": TARGETS, "reagents": REAGENTS}),
])
def test_anonymous_is_refused(url, payload):
    response = APIClient().post(url, payload, format="json")
    assert response.status_code in (401, 403)


def test_schema_documents_both_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator(urlconf="tests.api.stoich_urls").get_schema(request=None, public=True)
    composition = schema["paths"][COMPOSITION_URL]["post"]
    solve = schema["paths"][SOLVE_URL]["post"]
    assert composition["operationId"] == "stoichiometry_composition"
    assert solve["operationId"] == "stoichiometry_solve"
    # 200 and the chemist's 400; the shared error responses (401, 403, 429 …) are documented too.
    assert {"200", "400", "401", "403"} <= set(composition["responses"])
    request_ref = composition["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert request_ref.endswith("CompositionRequestRequest")
    assert "targets" in schema["components"]["schemas"]["SolveRequestRequest"]["properties"]
