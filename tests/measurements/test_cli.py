"""`manage.py analyze … --json`: the reference answers through the CLI, without a database
(these tests have no django_db mark, so any query would fail them)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def analyze(*args: str) -> dict:
    out = io.StringIO()
    call_command("analyze", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_led_pair(data_dir, answers):
    led, tol = answers["led"], answers["led"]["tolerance"]
    result = analyze("--kind", "led", "--jlv", str(data_dir / "public" / "jlv_sweep.csv"),
                     "--spectrum", str(data_dir / "public" / "el_spectrum.txt"), "--pixel-area", "0.09")
    m = result["metrics"]
    assert (result["method"], result["version"]) == ("led.jlv_el", "1.1")
    assert m["eqe_max"] == {"value": pytest.approx(led["eqe_max_percent"], rel=tol["eqe_rel"]), "unit": "%"}
    assert m["j_at_eqe_max"]["value"] == pytest.approx(led["j_at_eqe_max_mA_cm2"], rel=0.02)
    assert m["j_at_eqe_max"]["unit"] == "mA/cm²"
    assert m["eqe_at_100_ma_cm2"]["value"] == pytest.approx(led["eqe_at_100mA_cm2_percent"], rel=tol["eqe_rel"])
    assert m["luminance_max"] == {"value": pytest.approx(led["luminance_max_cd_m2"], rel=tol["L_rel"]), "unit": "cd/m²"}
    assert m["current_efficiency_max"]["value"] == pytest.approx(led["current_efficiency_max_cd_A"], rel=tol["L_rel"])
    assert m["power_efficacy_max"]["value"] == pytest.approx(led["power_efficacy_max_lm_W"], rel=tol["L_rel"])
    assert m["turn_on_voltage"] == {"value": pytest.approx(led["turn_on_voltage_V_at_1cd"], abs=tol["turn_on_V"]), "unit": "V"}
    assert m["el_peak_wavelength"]["value"] == pytest.approx(led["el_peak_nm"], abs=tol["peak_nm"])
    assert m["el_fwhm"]["value"] == pytest.approx(led["el_fwhm_nm"], abs=tol["fwhm_nm"])
    assert m["cie_x"]["value"] == pytest.approx(led["cie_x"], abs=tol["cie"])
    assert m["cie_y"]["value"] == pytest.approx(led["cie_y"], abs=tol["cie"])


def test_lifetime_runs(data_dir, answers):
    life = answers["lifetime"]
    files = [str(data_dir / "public" / c["file"]) for c in life["curves"]]
    result = analyze("--kind", "lifetime", *files)
    m = result["metrics"]
    assert m["lifetime_acceleration_n"]["value"] == pytest.approx(life["n"], abs=life["tolerance"]["n_abs"])
    assert m["t50_at_100_cd"]["value"] == pytest.approx(life["T50_at_100_h"], rel=life["tolerance"]["T50_100_rel"])
    assert m["t50_at_100_cd"]["unit"] == "h" and "uncertainty" in m["t50_at_100_cd"]
    per_file = {entry["file"]: entry["metrics"] for entry in result["per_file"]}
    for curve in life["curves"]:
        assert per_file[curve["file"]]["t50"]["value"] == pytest.approx(curve["T50_h"], rel=life["tolerance"]["T50_rel"])


def test_pl_trpl_xrd(data_dir, answers):
    pl = analyze("--kind", "pl", str(data_dir / "public" / "pl_spectrum.txt"))["metrics"]
    assert pl["pl_peak_wavelength"]["value"] == pytest.approx(answers["pl"]["peak_nm"], abs=1.0)
    assert pl["pl_fwhm"]["value"] == pytest.approx(answers["pl"]["fwhm_nm"], abs=1.5)
    assert pl["pl_peak_energy"] == {"value": pytest.approx(answers["pl"]["peak_eV"], abs=0.005), "unit": "eV"}
    trpl = analyze("--kind", "trpl", str(data_dir / "public" / "trpl.dat"))["metrics"]
    rel = answers["trpl"]["tolerance"]["rel"]
    assert trpl["tau_1"]["value"] == pytest.approx(answers["trpl"]["tau1_ns"], rel=rel)
    assert trpl["tau_2"]["value"] == pytest.approx(answers["trpl"]["tau2_ns"], rel=rel)
    assert trpl["tau_avg"]["value"] == pytest.approx(answers["trpl"]["tau_avg_intensity_weighted_ns"], rel=rel)
    assert trpl["tau_avg"]["unit"] == "ns"
    xrd = analyze("--kind", "xrd", str(data_dir / "public" / "xrd.xy"), "--wavelength", "1.5406")["metrics"]
    assert xrd["lattice_constant"]["value"] == pytest.approx(answers["xrd"]["cubic_a_A"], abs=answers["xrd"]["tolerance"]["a_A"])
    assert xrd["crystallite_size"]["value"] == pytest.approx(answers["xrd"]["scherrer_nm_K0.9_first_peak"],
                                                             rel=answers["xrd"]["tolerance"]["scherrer_rel"])


def test_a_solar_cell_file_is_refused_with_the_reason(data_dir):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("analyze", "--kind", "led", "--jlv", str(data_dir / "real" / "HZB_MiGo_20230913_Batch-Test-1_0_0.notessfdsf.jv.txt"),
                     "--spectrum", str(data_dir / "public" / "el_spectrum.txt"), "--pixel-area", "0.09", "--json", stdout=out)
    assert exit_.value.code == 1
    assert "no luminance or photodiode column" in json.loads(out.getvalue())["error"]
    with pytest.raises(CommandError, match="unknown kind"):
        call_command("analyze", "--kind", "nope", str(data_dir / "public" / "xrd.xy"))
