"""TA: synthetic matrix with bleach positions and times known by construction
(tests/data/dialects/make_structural_fixtures.py: B1 550 nm, τ_rec 20 ps; B2 610 nm, rise 2 ps,
τ_rec 300 ps)."""

from pathlib import Path

import numpy as np
import pytest

from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.registry import run
from measurements.analysis.ta import analyse_matrix, irf_exp

MATRIX = Path(__file__).resolve().parents[1] / "data" / "dialects" / "ta_matrix.csv"


@pytest.fixture(scope="module")
def result():
    return run("ta", {"files": [(MATRIX.name, MATRIX.read_bytes())]})


def test_bleach_positions(result):
    m = result.metrics
    assert m["ta_bleach_count"].value == 2  # the photo-induced absorption at 680 nm is not a bleach
    assert m["ta_bleach_1_wavelength"].value == pytest.approx(550, abs=2)
    assert m["ta_bleach_2_wavelength"].value == pytest.approx(610, abs=2)
    assert m["ta_bleach_1_wavelength"].unit == "nm"


def test_recovery_and_rise_times(result):
    m = result.metrics
    assert m["ta_bleach_1_recovery"].value == pytest.approx(20.0, rel=0.05)
    assert m["ta_bleach_2_recovery"].value == pytest.approx(300.0, rel=0.05)
    assert m["ta_bleach_2_rise"].value == pytest.approx(2.0, rel=0.1)
    assert m["ta_bleach_2_rise"].unit == "ps" and not m["ta_bleach_2_rise"].flags
    assert m["ta_bleach_1_recovery"].extra["irf_sigma_ps"] == pytest.approx(0.15, rel=0.3)


def test_delta_t_over_t_convention_flips_sign(tmp_path):
    # ΔT/T ≈ −ΔA·ln10 for small signals: a bleach is positive. Same bands must be found.
    text = MATRIX.read_text().splitlines()
    flipped = [text[0]] + [",".join([row.split(",")[0]] + [f"{-2.303 * float(v):.6e}" for v in row.split(",")[1:]])
                           for row in text[1:]]
    path = tmp_path / "ta_dTT.csv"
    path.write_text("\n".join(flipped))
    res = run("ta", {"files": [(path.name, path.read_bytes())]}, {"signal": "delta_t_over_t"})
    assert res.metrics["ta_bleach_2_wavelength"].value == pytest.approx(610, abs=2)


def test_single_bleach_has_no_rise():
    t = np.r_[np.linspace(-1, 0, 6), np.geomspace(0.05, 1000, 60)]
    w = np.arange(500.0, 600.0, 1.0)
    s = 0.01 * irf_exp(t, 50.0, 0.0, 0.1)[:, None] * np.exp(-0.5 * ((w - 540) / 8) ** 2)[None, :]
    res = analyse_matrix(t, w, s)
    assert res.metrics["ta_bleach_count"].value == 1
    assert res.metrics["ta_bleach_1_recovery"].value == pytest.approx(50, rel=0.02)
    assert "ta_bleach_2_rise" not in res.metrics and res.warnings


def test_no_bleach_fails_with_reason():
    t = np.linspace(-1, 100, 40)
    w = np.arange(500.0, 600.0, 2.0)
    with pytest.raises(AnalysisError, match="no bleach"):
        analyse_matrix(t, w, -np.ones((t.size, w.size)) * 1e-3)  # absorption only, no bleach


def test_plots_map_and_kinetics(result):
    charts = {c["name"]: c for c in charts_for("ta", result)}
    assert set(charts) == {"map", "kinetics"}
    assert len(charts["kinetics"]["series"]) == 4  # two traces, two fits
    grid = charts["map"]["map"]
    assert len(grid["z"]) == len(grid["y"]) and len(grid["z"][0]) == len(grid["x"])
