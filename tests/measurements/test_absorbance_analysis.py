"""Absorbance analysis on synthetic spectra with a known gap, exciton and optical density."""

import math
from pathlib import Path

import numpy as np
import pytest

from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.registry import run

DIALECTS = Path(__file__).resolve().parents[1] / "data" / "dialects"
HC_EV_NM = 1239.84193
WAVELENGTH_NM = np.arange(350, 800.01, 1.0)


def absorbance_csv(absorbance) -> bytes:
    rows = "\n".join(f"{w:.1f},{a:.6f}" for w, a in zip(WAVELENGTH_NM, absorbance, strict=True))
    return ("Wavelength (nm),Absorbance\n" + rows + "\n").encode()


def direct_gap_spectrum(gap_ev, noise_od=0.0, seed=0):
    # Direct allowed edge: α·hν ∝ (hν − E_g)^½, so (A·hν)² is a straight line through E_g.
    energy_ev = HC_EV_NM / WAVELENGTH_NM
    absorbance = 0.8 * np.sqrt(np.clip(energy_ev - gap_ev, 0, None)) / energy_ev
    return absorbance + np.random.default_rng(seed).normal(0, noise_od, WAVELENGTH_NM.size)


def test_tauc_gap_of_a_direct_edge():
    result = run("absorbance", {"files": [("edge.csv", absorbance_csv(direct_gap_spectrum(2.30)))]})
    assert result.metrics["optical_gap"].value == pytest.approx(2.30, abs=0.005)
    assert result.metrics["optical_gap"].unit == "eV"
    # a bare square-root edge has no exciton: reported as a warning, not invented
    assert "first_exciton_peak_wavelength" not in result.metrics
    assert any("no excitonic peak" in w for w in result.warnings)


def test_tauc_gap_with_spectrometer_noise():
    spectrum = direct_gap_spectrum(2.30, noise_od=0.0005, seed=11)
    result = run("absorbance", {"files": [("noisy.csv", absorbance_csv(spectrum))]})
    assert result.metrics["optical_gap"].value == pytest.approx(2.30, abs=0.01)


def test_optical_density_at_500_nm_by_default_and_at_a_chosen_wavelength():
    spectrum = direct_gap_spectrum(2.30)
    expected_500 = 0.8 * math.sqrt(HC_EV_NM / 500 - 2.30) / (HC_EV_NM / 500)
    result = run("absorbance", {"files": [("edge.csv", absorbance_csv(spectrum))]})
    assert result.metrics["optical_density"].value == pytest.approx(expected_500, abs=1e-4)
    assert result.parameters["od_wavelength_nm"] == 500.0
    # between grid points: linear interpolation of the recorded values
    result = run("absorbance", {"files": [("edge.csv", absorbance_csv(spectrum))]}, {"od_wavelength_nm": 450.5})
    expected = (spectrum[WAVELENGTH_NM == 450][0] + spectrum[WAVELENGTH_NM == 451][0]) / 2
    assert result.metrics["optical_density"].value == pytest.approx(expected, abs=1e-5)


def test_od_wavelength_outside_the_spectrum_is_a_missing_metric_naming_the_parameter():
    result = run("absorbance", {"files": [("edge.csv", absorbance_csv(direct_gap_spectrum(2.3)))]},
                 {"od_wavelength_nm": 900})
    assert "optical_density" not in result.metrics
    assert any("od_wavelength_nm = 900 nm is outside the recorded range 350–800 nm" in w for w in result.warnings)
    assert result.metrics["optical_gap"].value == pytest.approx(2.30, abs=0.005)  # the rest is still computed


def test_first_exciton_peak_of_quantum_dots_from_cary_file():
    # Fixture: 0.3 OD Gaussian exciton at 620 nm (σ 12 nm) on a continuum rising below 560 nm.
    path = DIALECTS / "cary_absorbance.csv"
    whole = run("absorbance", {"files": [(path.name, path.read_bytes())]})
    # two samples in the file: one result each, named by the column title; none at the top level
    assert [s.sample for s in whole.samples] == ["CsPbI3 QD film", "toluene blank"] and not whole.metrics
    result = whole.samples[0]
    exciton = result.metrics["first_exciton_peak_wavelength"]
    assert exciton.value == pytest.approx(620, abs=1.0)
    assert exciton.extra["method"] == "local maximum"
    # the Tauc edge is fitted below the exciton energy (2.0 eV), not on the continuum
    assert 1.85 < result.metrics["optical_gap"].value < HC_EV_NM / 620


def test_exciton_shoulder_without_a_local_maximum():
    # 0.15 OD exciton at 620 nm on a continuum edge at 600 nm: a shoulder, no local maximum.
    absorbance = (0.15 * np.exp(-((WAVELENGTH_NM - 620) ** 2) / (2 * 12**2))
                  + 1 / (1 + np.exp((WAVELENGTH_NM - 600) / 15)))
    result = run("absorbance", {"files": [("shoulder.csv", absorbance_csv(absorbance))]})
    exciton = result.metrics["first_exciton_peak_wavelength"]
    assert exciton.value == pytest.approx(620, abs=2.0)
    assert exciton.extra["method"] == "second derivative"


def test_exciton_found_through_noise():
    rng = np.random.default_rng(5)
    absorbance = (0.3 * np.exp(-((WAVELENGTH_NM - 620) ** 2) / (2 * 12**2))
                  + 1 / (1 + np.exp((WAVELENGTH_NM - 560) / 15)) + rng.normal(0, 0.003, WAVELENGTH_NM.size))
    result = run("absorbance", {"files": [("noisy_qd.csv", absorbance_csv(absorbance))]})
    assert result.metrics["first_exciton_peak_wavelength"].value == pytest.approx(620, abs=1.5)


def test_flat_spectrum_keeps_its_optical_density_but_reports_no_gap():
    result = run("absorbance", {"files": [("flat.csv", absorbance_csv(np.full(WAVELENGTH_NM.size, 0.2)))]})
    assert result.metrics["optical_density"].value == pytest.approx(0.2)
    assert "optical_gap" not in result.metrics
    assert any("no optical gap" in w for w in result.warnings)
    assert [c["name"] for c in charts_for("absorbance", result)] == ["absorbance"]  # no Tauc plot without a gap


def test_unknown_tauc_exponent_is_refused():
    with pytest.raises(AnalysisError, match="tauc_exponent_r"):
        run("absorbance", {"files": [("edge.csv", absorbance_csv(direct_gap_spectrum(2.3)))]},
            {"tauc_exponent_r": 0.7})


def test_avantes_raw_file_through_the_pipeline():
    path = DIALECTS / "avantes_raw.txt"
    result = run("absorbance", {"files": [(path.name, path.read_bytes())]})
    # fixture: A = 0.001·(λ − 400 nm) → 0.1 at 500 nm
    assert result.metrics["optical_density"].value == pytest.approx(0.1, abs=1e-6)


def test_spectrum_and_tauc_plots():
    result = run("absorbance", {"files": [("edge.csv", absorbance_csv(direct_gap_spectrum(2.3)))]})
    charts = {c["name"]: c for c in charts_for("absorbance", result)}
    assert set(charts) == {"absorbance", "tauc"}
    assert [s["style"] for s in charts["tauc"]["series"]] == ["line", "dashed"]  # data and fitted line
    # the fitted line meets zero at the gap
    assert charts["tauc"]["series"][1]["x"][0] == pytest.approx(result.metrics["optical_gap"].value, rel=1e-4)
