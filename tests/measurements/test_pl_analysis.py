"""PL analysis against answers.json, the real Edinburgh file and hand-built two-band spectra."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.registry import run
from measurements.parsers import ParsedData

DATA = Path(__file__).resolve().parents[1] / "data"
ANSWERS = json.loads((DATA / "public" / "answers.json").read_text())["files"]
REAL_PL = DATA / "real" / "HZB_AlFl_20231009_Solarcells-Batch-2-varyHTL_1_0.pl.csv"
PEAK_TOL_NM = ANSWERS["led"]["tolerance"]["peak_nm"]  # the only spectral tolerances given
FWHM_TOL_NM = ANSWERS["led"]["tolerance"]["fwhm_nm"]


def files(*paths: Path) -> dict:
    return {"files": [(p.name, p.read_bytes()) for p in paths]}


def spectrum_csv(wavelength_nm, counts) -> bytes:
    rows = "\n".join(f"{w:.2f},{c:.4f}" for w, c in zip(wavelength_nm, counts, strict=True))
    return ("wavelength_nm,intensity_counts\n" + rows + "\n").encode()


def gaussian(x, centre, fwhm, height):
    return height * np.exp(-4 * np.log(2) * (x - centre) ** 2 / fwhm**2)


def test_public_pl_spectrum_matches_answers():
    expected = ANSWERS["pl"]
    result = run("pl", files(DATA / "public" / expected["file"]))
    m = result.metrics
    assert m["pl_peak_wavelength"].value == pytest.approx(expected["peak_nm"], abs=PEAK_TOL_NM)
    assert m["pl_fwhm"].value == pytest.approx(expected["fwhm_nm"], abs=FWHM_TOL_NM)
    assert m["pl_peak_energy"].value == pytest.approx(expected["peak_eV"], abs=0.005)
    assert m["pl_peak_energy"].unit == "eV" and m["pl_fwhm"].unit == "nm"
    assert m["pl_band_count"].value == 1


def test_real_edinburgh_file_peak_773_nm():
    result = run("pl", files(REAL_PL))
    m = result.metrics
    assert m["pl_peak_wavelength"].value == pytest.approx(773, abs=PEAK_TOL_NM)
    assert m["pl_peak_energy"].value == pytest.approx(1.60, abs=0.01)
    # README: "FWHM ≈ 47 nm" is the count of raw points above half of the raw maximum
    # (749–796 nm). That maximum is inflated by noise (σ ≈ 2000 counts at the top), so the
    # half-maximum line sits too high; the smoothed peak gives 51 nm and a Gaussian fit of the
    # top half 50.3 nm. Accept the README value within that spread.
    assert m["pl_fwhm"].value == pytest.approx(47, abs=4.5)
    assert m["pl_band_count"].value == 1


def test_matrix_only_film_reports_both_bands_and_never_averages_them():
    wavelength_nm = np.arange(550, 800.01, 0.5)
    counts = gaussian(wavelength_nm, 650, 25, 1000) + gaussian(wavelength_nm, 700, 30, 600)
    result = run("pl", {"files": [("matrix.csv", spectrum_csv(wavelength_nm, counts))]})
    m = result.metrics
    assert m["pl_band_count"].value == 2
    assert m["pl_band_count"].extra["bands_nm"] == pytest.approx([650, 700], abs=1.0)
    # the main band is the stronger one, at its own position, not between the two
    assert m["pl_peak_wavelength"].value == pytest.approx(650, abs=0.5)
    assert result.warnings and "2 emission bands" in result.warnings[0]


def test_negative_background_corrected_counts_and_offset_baseline():
    rng = np.random.default_rng(7)
    wavelength_nm = np.arange(500, 800.01, 1.0)
    # dark-subtracted file: noise straddling zero, plus a sloped stray-light offset
    counts = gaussian(wavelength_nm, 700, 40, 5000) + rng.normal(0, 50, wavelength_nm.size)
    counts += -80 + 0.5 * (wavelength_nm - 500)
    result = run("pl", {"files": [("neg.csv", spectrum_csv(wavelength_nm, counts))]})
    assert result.metrics["pl_peak_wavelength"].value == pytest.approx(700, abs=1.0)
    assert result.metrics["pl_fwhm"].value == pytest.approx(40, abs=1.5)
    assert result.metrics["pl_peak_energy"].value == pytest.approx(1239.84193 / 700, abs=0.003)


def test_no_emission_above_noise_is_refused():
    rng = np.random.default_rng(3)
    wavelength_nm = np.arange(500, 800.01, 1.0)
    noise = rng.normal(0, 20, wavelength_nm.size)
    with pytest.raises(AnalysisError, match="no emission above noise"):
        run("pl", {"files": [("dark.csv", spectrum_csv(wavelength_nm, noise))]})


def test_overlay_of_several_spectra_gives_per_file_metrics_and_one_plot():
    wavelength_nm = np.arange(550, 800.01, 0.5)
    first = spectrum_csv(wavelength_nm, gaussian(wavelength_nm, 650, 30, 1000))
    second = spectrum_csv(wavelength_nm, gaussian(wavelength_nm, 690, 36, 300))
    result = run("pl", {"files": [("qd_in_matrix.csv", first), ("qd_only.csv", second)]})
    assert [row["file"] for row in result.per_file] == ["qd_in_matrix.csv", "qd_only.csv"]
    peaks = [row["metrics"]["pl_peak_wavelength"]["value"] for row in result.per_file]
    widths = [row["metrics"]["pl_fwhm"]["value"] for row in result.per_file]
    assert peaks == pytest.approx([650, 690], abs=0.5)
    assert widths == pytest.approx([30, 36], abs=0.5)
    charts = charts_for("pl", result)
    assert [c["name"] for c in charts] == ["pl_spectrum"]
    assert [s["label"] for s in charts[0]["series"]] == ["qd_in_matrix.csv", "qd_only.csv"]
    # each normalised to its own peak
    assert [max(v for v in s["y"] if v is not None) for s in charts[0]["series"]] == pytest.approx([1, 1], abs=0.02)


def test_single_spectrum_chart_renders():
    from measurements.analysis.plotting import render_chart

    result = run("pl", files(REAL_PL))
    (chart,) = charts_for("pl", result)
    assert chart["x"] == {"label": "wavelength", "unit": "nm", "log": False}
    assert chart["vlines"][0]["x"] == pytest.approx(result.metrics["pl_peak_wavelength"].value, rel=1e-5)
    assert render_chart(chart, "svg").startswith(b"<?xml")


def test_pl_reads_parsed_data_without_files():
    # The analysis is usable from a notebook on a DataFrame (no parser, no Django).
    from measurements.analysis.pl import analyse_pl

    wavelength_nm = np.arange(600, 700.01, 0.25)
    parsed = ParsedData("notebook", "spectrum", pd.DataFrame(
        {"wavelength_nm": wavelength_nm, "intensity_counts": gaussian(wavelength_nm, 652, 30, 100)}))
    result = analyse_pl({"files": [parsed]}, {})
    assert result.metrics["pl_fwhm"].value == pytest.approx(30, abs=0.05)
