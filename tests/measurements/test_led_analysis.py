"""J-L-V + EL analysis against public/answers.json, the photodiode route by hand, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.registry import run
from measurements.parsers import ParseError


def _files(data_dir, jlv="public/jlv_sweep.csv", el="public/el_spectrum.txt", **more):
    files = {"jlv": [(jlv.split("/")[-1], (data_dir / jlv).read_bytes())],
             "el": [(el.split("/")[-1], (data_dir / el).read_bytes())]}
    for role, path in more.items():
        files[role] = [(path.split("/")[-1], (data_dir / path).read_bytes())]
    return files


def _assert_led_answers(metrics, expected):
    tol = expected["tolerance"]
    assert metrics["eqe_max"].value == pytest.approx(expected["eqe_max_percent"], rel=tol["eqe_rel"])
    assert metrics["eqe_at_100_ma_cm2"].value == pytest.approx(expected["eqe_at_100mA_cm2_percent"], rel=tol["eqe_rel"])
    assert metrics["j_at_eqe_max"].value == pytest.approx(expected["j_at_eqe_max_mA_cm2"], rel=tol["L_rel"])
    assert metrics["luminance_max"].value == pytest.approx(expected["luminance_max_cd_m2"], rel=tol["L_rel"])
    assert metrics["current_efficiency_max"].value == pytest.approx(expected["current_efficiency_max_cd_A"], rel=tol["L_rel"])
    assert metrics["power_efficacy_max"].value == pytest.approx(expected["power_efficacy_max_lm_W"], rel=tol["L_rel"])
    assert metrics["turn_on_voltage"].value == pytest.approx(expected["turn_on_voltage_V_at_1cd"], abs=tol["turn_on_V"])
    assert metrics["el_peak_wavelength"].value == pytest.approx(expected["el_peak_nm"], abs=tol["peak_nm"])
    assert metrics["el_fwhm"].value == pytest.approx(expected["el_fwhm_nm"], abs=tol["fwhm_nm"])
    assert metrics["cie_x"].value == pytest.approx(expected["cie_x"], abs=tol["cie"])
    assert metrics["cie_y"].value == pytest.approx(expected["cie_y"], abs=tol["cie"])


def test_public_pair_matches_answers(data_dir, answers):
    expected = answers["led"]
    result = run("jlv", _files(data_dir), {"pixel_area_cm2": expected["pixel_area_cm2"]})
    _assert_led_answers(result.metrics, expected)
    assert (result.method, result.version) == ("led.jlv_el", "1.1")
    assert result.metrics["eqe_max"].unit == "%"
    assert result.metrics["j_at_eqe_max"].unit == "mA/cm²"
    assert result.parameters["pixel_area_cm2"] == 0.09
    assert result.parameters["dark_offset_counts"] == pytest.approx(520, abs=2)
    assert result.to_json()["metrics"]["cie_x"]["unit"] == ""


@pytest.mark.parametrize("jlv", ["dialects/jlv_tab_mA_time.tsv", "dialects/jlv_semicolon_decimal_comma.csv"])
def test_other_jlv_dialects_give_the_same_answers(data_dir, answers, jlv):
    result = run("jlv", _files(data_dir, jlv=jlv), {"pixel_area_cm2": 0.09})
    _assert_led_answers(result.metrics, answers["led"])


def test_spectrasuite_spectrum_gives_the_same_colour(data_dir, answers):
    result = run("jlv", _files(data_dir, el="dialects/el_spectrasuite.txt"), {"pixel_area_cm2": 0.09})
    _assert_led_answers(result.metrics, answers["led"])


def test_column_mapping_through_run(data_dir, answers):
    options = {"jlv": {"columns": {"Vsrc": "voltage_v", "Isrc": "current_a", "Lmeter": "luminance_cd_m2"},
                       "units": {"Isrc": "µA"}}}
    result = run("jlv", _files(data_dir, jlv="dialects/jlv_odd_columns.csv"), {"pixel_area_cm2": 0.09},
                 parse_options=options)
    _assert_led_answers(result.metrics, answers["led"])


def test_up_down_sweep_uses_forward_sweep_and_averages_duplicates(data_dir, answers):
    result = run("jlv", _files(data_dir, jlv="dialects/jlv_up_down_duplicates.csv"), {"pixel_area_cm2": 0.09})
    # ±1 % readings at each voltage average back to the reference; the 20 %-dimmer reverse
    # sweep must not leak in.
    _assert_led_answers(result.metrics, answers["led"])
    assert any("forward" in w for w in result.warnings)
    assert any("averaged" in w for w in result.warnings)
    assert np.all(np.diff(result.arrays["voltage_v"]) > 0)


def test_a_gap_in_the_forward_sweep_leaves_the_reverse_sweep_out(data_dir):
    """Readings with a NaN (a saturated photodiode) are dropped with their sweep labels: the rows
    after them keep their own sweep. (The labels were cut from the end instead, so the first
    reverse readings were counted as forward ones and averaged into the top of the curve.)"""
    lines = (data_dir / "dialects/jlv_up_down_duplicates.csv").read_text().splitlines()
    gaps = {11, 12, 13}  # three forward readings, luminance not recorded
    with_gaps = [",".join([*ln.split(",")[:2], "nan"]) if i in gaps else ln for i, ln in enumerate(lines)]
    without = [ln for i, ln in enumerate(lines) if i not in gaps]
    el = ("el.txt", (data_dir / "public/el_spectrum.txt").read_bytes())
    gapped = run("jlv", {"jlv": [("gaps.csv", "\n".join(with_gaps).encode())], "el": [el]}, {"pixel_area_cm2": 0.09})
    clean = run("jlv", {"jlv": [("clean.csv", "\n".join(without).encode())], "el": [el]}, {"pixel_area_cm2": 0.09})
    assert gapped.metrics_json() == clean.metrics_json()
    for name in ("voltage_v", "luminance_cd_m2", "eqe_percent"):
        assert np.array_equal(gapped.arrays[name], clean.arrays[name], equal_nan=True), name
    # At 7.85–7.95 V only forward readings: the reverse sweep is 20 % dimmer.
    top = (gapped.arrays["voltage_v"] > 7.8) & (gapped.arrays["voltage_v"] < 7.99)
    assert np.all(gapped.arrays["luminance_cd_m2"][top] == pytest.approx(8535, rel=0.01))


def test_el_kind_alone(data_dir, answers):
    expected = answers["led"]
    result = run("el", {"el": [("el_spectrum.txt", (data_dir / "public/el_spectrum.txt").read_bytes())]})
    assert set(result.metrics) == {"el_peak_wavelength", "el_fwhm", "cie_x", "cie_y"}
    assert result.metrics["el_peak_wavelength"].value == pytest.approx(expected["el_peak_nm"], abs=1.0)
    assert result.metrics["cie_y"].value == pytest.approx(expected["cie_y"], abs=0.005)


def test_2048_pixel_spectrum_with_large_dark_offset(data_dir):
    result = run("el", {"el": [("ooi.txt", (data_dir / "dialects/el_ooibase32_2048.txt").read_bytes())]})
    # Synthetic: Gaussian at 516 nm, FWHM 22 nm, on a 3000-count dark level.
    assert result.metrics["el_peak_wavelength"].value == pytest.approx(516.0, abs=1.0)
    assert result.metrics["el_fwhm"].value == pytest.approx(22.0, abs=1.5)
    assert result.parameters["dark_offset_counts"] == pytest.approx(3000, abs=5)
    assert 0.05 < result.metrics["cie_x"].value < 0.2  # saturated green
    assert result.metrics["cie_y"].value > 0.6


def test_photodiode_route_by_hand(data_dir):
    """Flat responsivity R = 0.5 A/W, a 555 nm line (V ≈ 1), photodiode radius = distance so
    sin²α = 1/2, pixel 0.09 cm². At 3 V: I_pd = 1 µA, I = 0.1 mA.
      L   = Km·I_pd/(sin²α·R·π·A)   = 683·1e-6/(0.5·0.5·π·9e-6)      = 96.62 cd/m²
      EQE = e·I_pd·λ/(h·c·I·sin²α·R) = 1e-6·555e-9/(1.23984e-6·1e-4·0.25) = 1.7905 %
    """
    params = {"pixel_area_cm2": 0.09, "photodiode_radius_mm": 10, "photodiode_distance_mm": 10}
    files = _files(data_dir, jlv="dialects/jlv_photodiode.csv", el="dialects/el_line_555.txt",
                   responsivity="dialects/responsivity_flat.csv")
    result = run("jlv", files, params)
    v = result.arrays["voltage_v"]
    lum = result.arrays["luminance_cd_m2"][v == 3.0][0]
    eqe = result.arrays["eqe_percent"][v == 3.0][0]
    v555 = 0.99998  # CIE 1924 V(555 nm); the 1 nm-wide line averages V over 554–556 nm
    assert lum == pytest.approx(683 * 1e-6 / (0.25 * math.pi * 9e-6) * v555, rel=2e-3)
    assert eqe == pytest.approx(1e-6 * 555e-9 / (1.2398419843e-6 * 1e-4 * 0.25) * 100, rel=2e-3)
    assert result.parameters["luminance_source"] == "photodiode"
    # the 20 pA photodiode dark level (points below 1 V) is removed before anything else
    assert result.arrays["luminance_cd_m2"][0] == pytest.approx(0.0, abs=1e-9)


def test_photodiode_voltage_mode_uses_the_resistor(data_dir):
    text = (b"Voltage (V),Current (mA),Photodiode voltage (V)\n"
            b"0,0,0\n0.5,1e-6,0\n2,0.01,0.1\n3,0.1,1.0\n4,1,5\n")
    files = {"jlv": [("pdv.csv", text)],
             "el": [("line.txt", (data_dir / "dialects/el_line_555.txt").read_bytes())],
             "responsivity": [("r.csv", (data_dir / "dialects/responsivity_flat.csv").read_bytes())]}
    params = {"pixel_area_cm2": 0.09, "photodiode_radius_mm": 10, "photodiode_distance_mm": 10,
              "resistor_ohm": 1e6}
    result = run("jlv", files, params)
    v = result.arrays["voltage_v"]
    # 1.0 V across 1 MΩ = 1 µA: the same point as the current-mode test
    assert result.arrays["luminance_cd_m2"][v == 3.0][0] == pytest.approx(96.62, rel=3e-3)
    with pytest.raises(AnalysisError, match="resistor_ohm"):
        run("jlv", files, {**params, "resistor_ohm": None})


def test_photodiode_without_responsivity_is_refused(data_dir):
    files = _files(data_dir, jlv="dialects/jlv_photodiode.csv", el="dialects/el_line_555.txt")
    with pytest.raises(AnalysisError, match="responsivity"):
        run("jlv", files, {"pixel_area_cm2": 0.09, "photodiode_radius_mm": 10, "photodiode_distance_mm": 10})


def test_calibration_file_scales_the_spectrum(data_dir):
    """A sensitivity that rises with wavelength pushes the colour to the red."""
    calibration = "Wavelength (nm),Sensitivity\n" + "\n".join(f"{w},{w / 600:.4f}" for w in range(380, 921, 5))
    files = _files(data_dir)
    files["calibration"] = [("cal.csv", calibration.encode())]
    plain = run("jlv", _files(data_dir), {"pixel_area_cm2": 0.09})
    calibrated = run("jlv", files, {"pixel_area_cm2": 0.09})
    assert calibrated.metrics["cie_x"].value > plain.metrics["cie_x"].value


# --- bad input ---------------------------------------------------------------------------------


def test_solar_cell_jv_is_refused_with_reason(data_dir):
    path = next((data_dir / "real").glob("HZB_MiGo_*jv.txt"))
    files = _files(data_dir)
    files["jlv"] = [(path.name, path.read_bytes())]
    with pytest.raises((ParseError, AnalysisError), match="no luminance or photodiode column"):
        run("jlv", files, {"pixel_area_cm2": 0.16})


def test_solar_cell_jv_refused_by_the_analysis_itself(data_dir):
    """Handed a parsed J-V directly (a notebook, a mis-tagged upload), the LED function refuses."""
    from measurements.analysis.led import analyse_jlv
    from measurements.parsers import parse_bytes

    path = next((data_dir / "real").glob("HZB_MiGo_*jv.txt"))
    jv = parse_bytes(path.read_bytes(), filename=path.name)
    el = parse_bytes((data_dir / "public/el_spectrum.txt").read_bytes(), filename="el.txt")
    with pytest.raises(AnalysisError, match="no luminance or photodiode column"):
        analyse_jlv({"jlv": [jv], "el": [el]}, {"pixel_area_cm2": 0.16})


def test_spectrum_without_emission_is_refused(data_dir):
    with pytest.raises(AnalysisError, match="no emission above noise"):
        run("jlv", _files(data_dir, el="dialects/el_no_emission.txt"), {"pixel_area_cm2": 0.09})
    with pytest.raises(AnalysisError, match="no emission above noise"):
        run("el", {"el": [("dark.txt", (data_dir / "dialects/el_no_emission.txt").read_bytes())]})


@pytest.mark.parametrize("area", [0.0, -0.09])
def test_zero_or_negative_pixel_area_is_refused(data_dir, area):
    with pytest.raises(AnalysisError, match="pixel area must be positive"):
        run("jlv", _files(data_dir), {"pixel_area_cm2": area})


def test_missing_pixel_area_is_refused(data_dir):
    with pytest.raises(AnalysisError, match="pixel_area_cm2 is required"):
        run("jlv", _files(data_dir), {})


def test_empty_and_binary_jlv_files(data_dir):
    files = _files(data_dir)
    files["jlv"] = [("empty.csv", b"")]
    with pytest.raises(ParseError, match="empty"):
        run("jlv", files, {"pixel_area_cm2": 0.09})
    files["jlv"] = [("junk.bin", b"\x89PNG\r\n\x1a\n\x00\x00" * 50)]
    with pytest.raises(ParseError, match="binary"):
        run("jlv", files, {"pixel_area_cm2": 0.09})


def test_sweep_without_100_ma_cm2_omits_roll_off_with_warning(data_dir):
    rows = (data_dir / "public/jlv_sweep.csv").read_text().splitlines()
    short = [rows[0]] + [r for r in rows[1:] if float(r.split(",")[1]) / 0.09e-3 < 50]
    files = _files(data_dir)
    files["jlv"] = [("short.csv", "\n".join(short).encode())]
    result = run("jlv", files, {"pixel_area_cm2": 0.09})
    assert "eqe_at_100_ma_cm2" not in result.metrics
    assert any("100 mA/cm²" in w for w in result.warnings)


# --- plots -------------------------------------------------------------------------------------


def test_charts_render(data_dir):
    result = run("jlv", _files(data_dir), {"pixel_area_cm2": 0.09})
    charts = {c["name"]: c for c in charts_for("jlv", result)}
    assert set(charts) == {"jv", "lv", "eqe_j", "el_spectrum", "cie"}
    from measurements.analysis.plotting import render_chart

    assert render_chart(charts["eqe_j"], "svg").lstrip().startswith(b"<?xml")
    assert render_chart(charts["el_spectrum"], "png")[:4] == b"\x89PNG"
