"""XRD: public pattern from answers.json, other dialects' wavelengths, and bad input."""

import json
from pathlib import Path

import numpy as np
import pytest

import measurements.analysis.xrd  # noqa: F401  (registers the kind even if another analysis was imported first)
from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.registry import run

DATA = Path(__file__).resolve().parents[1] / "data"
ANSWERS = json.loads((DATA / "public" / "answers.json").read_text())["files"]["xrd"]
DIALECTS = DATA / "dialects"


def _run(path: Path, **params):
    return run("xrd", {"files": [(path.name, path.read_bytes())]}, params)


def test_public_pattern_reproduces_answers():
    result = _run(DATA / "public" / ANSWERS["file"])
    tol = ANSWERS["tolerance"]
    assert result.parameters["wavelength_a"] == pytest.approx(ANSWERS["wavelength_A"])  # read from the header
    peaks = result.metrics["d_spacing"].extra["peaks"]
    assert len(peaks) == len(ANSWERS["peaks"])
    for found, expected in zip(peaks, ANSWERS["peaks"], strict=True):
        assert found["two_theta_deg"] == pytest.approx(expected["two_theta_deg"], abs=tol["two_theta_deg"])
        assert found["d_a"] == pytest.approx(expected["d_A"], abs=0.005)
        assert found["hkl"] == expected["hkl"]
    assert result.metrics["d_spacing"].value == pytest.approx(6.03, abs=0.005)
    assert result.metrics["lattice_constant"].value == pytest.approx(ANSWERS["cubic_a_A"], abs=tol["a_A"])
    assert result.metrics["crystallite_size"].value == pytest.approx(
        ANSWERS["scherrer_nm_K0.9_first_peak"], rel=tol["scherrer_rel"])
    assert result.metrics["crystallite_size"].unit == "nm"
    assert np.all(result.arrays["peak_fwhm_deg"] > 0)


def test_instrument_broadening_increases_size():
    plain = _run(DATA / "public" / "xrd.xy").metrics["crystallite_size"]
    corrected = _run(DATA / "public" / "xrd.xy", instrument_broadening_deg=0.1).metrics["crystallite_size"]
    fwhm = plain.extra["fwhm_deg"]
    # Quadrature correction: D scales as FWHM / √(FWHM² − 0.1²).
    assert corrected.value == pytest.approx(plain.value * fwhm / np.sqrt(fwhm**2 - 0.01), rel=1e-6)


def test_wavelength_parameter_overrides_the_file():
    result = _run(DATA / "public" / "xrd.xy", wavelength_a=1.24)
    # Same 2θ, shorter λ → d and a scale by 1.24/1.5406.
    assert result.metrics["lattice_constant"].value == pytest.approx(6.03 * 1.24 / 1.5406, abs=0.01)
    assert any("overrides" in w for w in result.warnings)


@pytest.mark.parametrize("name, wavelength_a", [
    ("xrd_bruker_eva.xy", 1.788996),  # Co anode named in the quoted header
    ("xrd_panalytical.xrdml", 1.5405980),
    ("xrd_rigaku.ras", 1.540593),
    ("xrd_giwaxs.xye", 1.24),
])
def test_dialects_give_the_constructed_cubic_cell(name, wavelength_a):
    result = _run(DIALECTS / name)
    assert result.parameters["wavelength_a"] == pytest.approx(wavelength_a, abs=1e-6)
    # Fixtures are built with a = 6.00 Å and peaks (100), (110), (111), (200).
    assert result.metrics["lattice_constant"].value == pytest.approx(6.00, abs=0.01)
    assert result.metrics["lattice_constant"].extra["hkl"] == [[1, 0, 0], [1, 1, 0], [1, 1, 1], [2, 0, 0]]
    # FWHM 0.30° by construction → Scherrer size K λ / (β cos θ).
    theta = np.arcsin(wavelength_a / 12.0)
    expected_nm = 0.9 * wavelength_a / (np.radians(0.30) * np.cos(theta)) / 10
    assert result.metrics["crystallite_size"].value == pytest.approx(expected_nm, rel=0.05)


def test_unknown_wavelength_asks_for_it():
    with pytest.raises(AnalysisError, match="wavelength is unknown"):
        _run(DIALECTS / "xrd_no_wavelength.xy")
    result = _run(DIALECTS / "xrd_no_wavelength.xy", wavelength_a=1.5406)
    assert result.metrics["lattice_constant"].value == pytest.approx(6.00, abs=0.01)


def test_flat_pattern_fails_with_reason(tmp_path):
    rng = np.random.default_rng(3)
    x = np.arange(10, 40, 0.02)
    path = tmp_path / "flat.xy"
    path.write_text("# 2theta intensity, lambda = 1.5406 A\n" + "".join(
        f"{a:.3f} {b}\n" for a, b in zip(x, rng.poisson(100, x.size), strict=True)))
    with pytest.raises(AnalysisError, match="no diffraction peak"):
        _run(path)


def test_plot_labels_indexed_peaks():
    result = _run(DATA / "public" / "xrd.xy")
    (chart,) = charts_for("xrd", result)
    assert chart["name"] == "pattern" and chart["x"]["unit"] == "°"
    labels = [m["label"] for m in chart["marks"]]
    assert any(text.startswith("(100)") for text in labels) and any(text.startswith("(200)") for text in labels)
