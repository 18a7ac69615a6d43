"""The PeLED export of the demo devices, column by column: the composition against the
stoichiometry of PROCESS.md §4 (PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10), the stack against §6, the
emissive-layer deposition against §5 and the demo run, the LED block against answers.json."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from django.contrib.auth import get_user_model

from devices.models import Device
from exchange.peled import COLUMNS, ion_columns
from exchange.peled_selectors import peled_table, to_csv, to_xlsx

pytestmark = pytest.mark.django_db(transaction=True)


_TABLE: list = []  # the demo with its measurements takes ~30 s to load: built once per worker, then plain data


@pytest.fixture
def table():
    if not _TABLE:
        from portal.demo import load_demo

        load_demo()
        user = get_user_model().objects.get(username="demo")
        frame = peled_table(Device.objects.all(), user)
        _TABLE.append(({row["Ref_ID"]: row for row in frame.to_dict("records")}, frame))
    return _TABLE[0]


def numbers(text: str) -> list[float]:
    return [float(x) for x in text.split("; ")]


def test_columns_are_the_dictionary_in_order(table):
    _, frame = table
    assert list(frame.columns) == [c.name for c in COLUMNS]
    assert len(frame) == 33  # the three reference devices of PROCESS.md and the 30 of the demo campaign


def test_matrix_composition_matches_process_md(table):
    rows, _ = table
    row = rows["DEV-0001"]  # QD-in-matrix, stack A
    # PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10: A site 2 × (0.8, 0.2) = Cs 1.6, MA 0.4; spacer PEA 2; Pb 3 (n = 3);
    # X = 3n + 1 = 10 split 0.4 Br / 0.6 I = Br 4, I 6.
    assert row["Perovskite_composition_a_ions"] == "(PEA); Cs; MA"
    assert numbers(row["Perovskite_composition_a_ions_coefficients"]) == pytest.approx([2.0, 1.6, 0.4], rel=1e-3)
    assert row["Perovskite_composition_b_ions"] == "Pb"
    assert numbers(row["Perovskite_composition_b_ions_coefficients"]) == pytest.approx([3.0], rel=1e-3)
    assert row["Perovskite_composition_c_ions"] == "Br; I"
    assert numbers(row["Perovskite_composition_c_ions_coefficients"]) == pytest.approx([4.0, 6.0], rel=1e-3)
    assert row["Perovskite_composition_long_form"] == "(PEA)2Cs1.6MA0.4Pb3Br4I6"
    assert row["Perovskite_composition_short_form"] == "(PEA)CsMAPbBrI"
    assert row["Perovskite_composition_ledger_formula"] == "PEA2(Cs0.8MA0.2)2Pb3(I0.6Br0.4)10"
    assert row["Perovskite_composition_assumption"].startswith("Solution stoichiometry: PRE-0001")
    assert (row["Perovskite_composition_inorganic"], row["Perovskite_composition_leadfree"]) == ("FALSE", "FALSE")
    # QDs in a quasi-2D matrix: 0D and a 2D/3D mixture, neither pure 2D nor 3D.
    assert (row["Perovskite_dimension_0D"], row["Perovskite_dimension_2D3D_mixture"],
            row["Perovskite_dimension_2D"], row["Perovskite_dimension_3D"]) == ("TRUE", "TRUE", "FALSE", "FALSE")
    assert row["Perovskite_deposition_solvents"] == "DMSO"
    # Nothing on the device lineage measured a band gap or PL: empty, not borrowed from a sibling film.
    assert row["Perovskite_band_gap"] == "" and row["Perovskite_band_gap_estimation_basis"] == ""
    assert row["Perovskite_pl_max"] == ""


def test_weighed_formula_follows_the_logged_masses(table):
    rows, _ = table
    # PROCESS.md §4 weighed 146.9 / 92.1 / 83.2 / 12.7 / 99.7 mg: n = 2·Pb/PEA = 2 × 0.60004/0.40026 = 2.998.
    assert rows["DEV-0001"]["Perovskite_composition_ledger_formula_weighed"].startswith("PEA2(Cs0.8MA0.2)")
    assert "Pb2.998" in rows["DEV-0001"]["Perovskite_composition_ledger_formula_weighed"]


def test_ion_columns_of_a_3d_perovskite():
    cols = ion_columns({"a_site_fractions": {"FA": 0.85, "MA": 0.15}, "b_site_fractions": {"Pb": 1.0},
                        "halide_fractions": {"I": 0.85, "Br": 0.15}, "spacer_fractions": {}, "n": None})
    assert cols["Perovskite_composition_a_ions"] == "FA; MA"
    assert cols["Perovskite_composition_a_ions_coefficients"] == "0.85; 0.15"
    assert cols["Perovskite_composition_c_ions_coefficients"] == "0.45; 2.55"
    assert cols["Perovskite_composition_long_form"] == "FA0.85MA0.15PbBr0.45I2.55"


def test_stacks_and_sections_follow_process_md(table):
    rows, _ = table
    a, b, qd_only = rows["DEV-0001"], rows["DEV-0002"], rows["DEV-0003"]
    assert a["Cell_stack_sequence"] == "ITO | poly-TPD | LiF | QD-in-matrix | PMMA | TPBi | LiF | Al"
    assert b["Cell_stack_sequence"] == "ITO | PEDOT:PSS:PFI | QD-in-matrix | PMMA | TPBi | LiF | Al"
    assert (a["Cell_area_measured"], a["Cell_number_of_cells_per_substrate"], a["Cell_architecture"]) == ("0.09", "4", "pin")
    assert a["Substrate_stack_sequence"] == "ITO"
    assert (a["HTL_stack_sequence"], a["HTL_thickness_list"], a["HTL_deposition_procedure"]) == (
        "poly-TPD | LiF", "nan | 2.5", "Spin-coating | Evaporation")
    assert (b["HTL_stack_sequence"], b["HTL_thickness_list"]) == ("PEDOT:PSS:PFI", "150")
    assert (a["ETL_stack_sequence"], a["ETL_thickness_list"]) == ("PMMA | TPBi | LiF", "1 | 35 | 1")
    assert (a["Backcontact_stack_sequence"], a["Backcontact_thickness_list"], a["Backcontact_deposition_procedure"]) == (
        "Al", "90", "Evaporation")
    assert a["Encapsulation"] == "FALSE"
    assert a["Ref_DOI_number"] == "10.1021/jacs.1c02148"
    # QD-only control: 0D, and no composition because no precursor solution went in; it says so.
    assert qd_only["Perovskite_dimension_0D"] == "TRUE" and qd_only["Perovskite_composition_a_ions"] == ""
    assert qd_only["Perovskite_composition_assumption"].startswith("Unknown: no precursor solution")


def test_emissive_layer_deposition_is_the_demo_run(table):
    rows, _ = table
    row = rows["DEV-0001"]
    # PROCESS.md §5: spin 1000 rpm then 5000 rpm (one spin-coating), QD-ink drip 150 µL logged, anneal 50 °C 2 min
    # then 110 °C for the planned 7.5 min (the EML run logged no anneal time).
    assert row["Perovskite_deposition_procedure"] == "Spin-coating"
    assert row["Perovskite_deposition_number_of_deposition_steps"] == "1"
    assert row["Perovskite_deposition_quenching_induced_crystallisation"] == "TRUE"
    assert row["Perovskite_deposition_quenching_media"] == "QD ink INK-0001"
    assert row["Perovskite_deposition_quenching_media_volume"] == "150"
    assert row["Perovskite_deposition_thermal_annealing_temperature"] == "50 >> 110"
    assert row["Perovskite_deposition_thermal_annealing_time"] == "2 >> 7.5"


def test_led_block_matches_the_known_answers(table, answers):
    rows, _ = table
    row, led, life = rows["DEV-0001"], answers["led"], answers["lifetime"]
    tol = led["tolerance"]
    assert row["LED_pixel_hero"] == "DEV-0001-A" and row["LED_pixels_measured"] == "1"
    assert float(row["LED_EQE_max"]) == pytest.approx(led["eqe_max_percent"], rel=tol["eqe_rel"])
    assert float(row["LED_J_at_EQE_max"]) == pytest.approx(led["j_at_eqe_max_mA_cm2"], rel=0.02)
    assert float(row["LED_EQE_at_100mA_cm2"]) == pytest.approx(led["eqe_at_100mA_cm2_percent"], rel=tol["eqe_rel"])
    assert float(row["LED_L_max"]) == pytest.approx(led["luminance_max_cd_m2"], rel=tol["L_rel"])
    assert float(row["LED_V_on"]) == pytest.approx(led["turn_on_voltage_V_at_1cd"], abs=tol["turn_on_V"])
    assert float(row["LED_CE_max"]) == pytest.approx(led["current_efficiency_max_cd_A"], rel=0.02)
    assert float(row["LED_PE_max"]) == pytest.approx(led["power_efficacy_max_lm_W"], rel=0.02)
    assert float(row["LED_EL_peak_wavelength"]) == pytest.approx(led["el_peak_nm"], abs=tol["peak_nm"])
    assert float(row["LED_EL_FWHM"]) == pytest.approx(led["el_fwhm_nm"], abs=tol["fwhm_nm"])
    assert float(row["LED_CIE_x"]) == pytest.approx(led["cie_x"], abs=tol["cie"])
    assert float(row["LED_CIE_y"]) == pytest.approx(led["cie_y"], abs=tol["cie"])
    # Lifetime: the longest-lived pixel is the L0 = 914 cd/m² run (lifetime_1.csv on pixel A).
    first = life["curves"][0]
    assert row["LED_stability_pixel"] == "DEV-0001-A"
    assert float(row["LED_stability_L0"]) == pytest.approx(first["L0_cd_m2"], rel=0.01)
    assert float(row["LED_stability_T50"]) == pytest.approx(first["T50_h"], rel=life["tolerance"]["T50_rel"])
    assert float(row["LED_stability_acceleration_n"]) == pytest.approx(life["n"], abs=life["tolerance"]["n_abs"])
    assert float(row["LED_stability_T50_at_100cd_m2"]) == pytest.approx(life["T50_at_100_h"], rel=life["tolerance"]["T50_100_rel"])
    assert row["LED_stability_drive_mode"] == "Constant current"
    # Devices without measurements leave the block empty rather than inventing numbers.
    assert rows["DEV-0002"]["LED_EQE_max"] == "" and rows["DEV-0002"]["LED_stability_drive_mode"] == ""


def test_csv_and_xlsx_carry_the_same_table(table):
    _, frame = table
    back = pd.read_csv(io.BytesIO(to_csv(frame)), dtype=str, keep_default_na=False)
    assert back.to_dict("records") == frame.to_dict("records")
    book = pd.read_excel(io.BytesIO(to_xlsx(frame)), sheet_name=None, dtype=str, keep_default_na=False)
    assert list(book["devices"].columns) == list(frame.columns)
    assert book["devices"].loc[0, "Perovskite_composition_long_form"] == "(PEA)2Cs1.6MA0.4Pb3Br4I6"
    assert list(book["columns"]["column"]) == [c.name for c in COLUMNS]
