"""PLQY (de Mello 1997) on synthetic integrating-sphere spectra whose PLQY is set by construction.

Laser and emission are Gaussians; a Gaussian's area is height·FWHM·√(π/(4 ln 2)), so every
integral below is known from the chosen amplitudes. The sphere model is de Mello's own:
B (out of beam): L_B = L_A·(1 − μ), P_B = η·μ·L_A (μ: share of diffuse light the sample absorbs)
C (in beam):     L_C = L_B·(1 − A), P_C = η·A·L_A + (1 − A)·P_B
"""

import math

import numpy as np
import pytest

from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.registry import run

WAVELENGTH_NM = np.arange(380, 800.01, 0.25)
LASER_NM, LASER_FWHM_NM = 405.0, 2.0
EMISSION_NM, EMISSION_FWHM_NM = 650.0, 30.0
GAUSS_AREA_PER_HEIGHT_FWHM = math.sqrt(math.pi / (4 * math.log(2)))
DARK_OFFSET_COUNTS = 3.0  # every spectrum carries the same detector offset

TRUE_PLQY = 0.62
ABSORPTANCE = 0.40
MU = 0.10
LASER_AREA_A = 10000.0 * LASER_FWHM_NM * GAUSS_AREA_PER_HEIGHT_FWHM


def gaussian_with_area(centre_nm, fwhm_nm, area):
    height = area / (fwhm_nm * GAUSS_AREA_PER_HEIGHT_FWHM)
    return height * np.exp(-4 * math.log(2) * (WAVELENGTH_NM - centre_nm) ** 2 / fwhm_nm**2)


def sphere_spectrum(laser_area, emission_area, seed):
    rng = np.random.default_rng(seed)
    counts = (gaussian_with_area(LASER_NM, LASER_FWHM_NM, laser_area)
              + gaussian_with_area(EMISSION_NM, EMISSION_FWHM_NM, emission_area)
              + DARK_OFFSET_COUNTS + rng.normal(0, 0.3, WAVELENGTH_NM.size))
    rows = "\n".join(f"{w:.2f},{c:.5f}" for w, c in zip(WAVELENGTH_NM, counts, strict=True))
    return ("wavelength_nm,intensity_counts\n" + rows + "\n").encode()


def three_spheres(mu=MU, absorptance=ABSORPTANCE, plqy=TRUE_PLQY):
    laser_b = LASER_AREA_A * (1 - mu)
    emission_b = plqy * mu * LASER_AREA_A
    laser_c = laser_b * (1 - absorptance)
    emission_c = plqy * absorptance * LASER_AREA_A + (1 - absorptance) * emission_b
    return {
        "empty": [("A.csv", sphere_spectrum(LASER_AREA_A, 0.0, 1))],
        "out_of_beam": [("B.csv", sphere_spectrum(laser_b, emission_b, 2))],
        "in_beam": [("C.csv", sphere_spectrum(laser_c, emission_c, 3))],
    }


def test_three_measurement_de_mello_recovers_the_set_plqy():
    result = run("plqy", three_spheres())
    plqy = result.metrics["plqy"]
    assert plqy.unit == "%"
    assert plqy.value == pytest.approx(100 * TRUE_PLQY, abs=0.3)
    assert plqy.extra["absorptance"] == pytest.approx(ABSORPTANCE, abs=0.002)
    # auto-detected windows: the laser line ± 3 FWHM, and an emission window around 650 nm
    assert result.parameters["excitation_min_nm"] == pytest.approx(LASER_NM - 3 * LASER_FWHM_NM, abs=0.5)
    assert result.parameters["emission_min_nm"] < EMISSION_NM - 1.5 * EMISSION_FWHM_NM
    assert result.parameters["emission_max_nm"] > EMISSION_NM + 1.5 * EMISSION_FWHM_NM


def test_explicit_windows_give_the_same_plqy():
    params = {"excitation_min_nm": 395, "excitation_max_nm": 415, "emission_min_nm": 560, "emission_max_nm": 760}
    result = run("plqy", three_spheres(), params)
    assert result.metrics["plqy"].value == pytest.approx(100 * TRUE_PLQY, abs=0.3)
    assert result.parameters["emission_max_nm"] == 760


def test_two_measurement_form_without_out_of_beam_spectrum():
    # With μ = 0 the sample sees no diffuse light, so η = (P_C − P_A)/(L_A − L_C) is exact:
    # P_C = 0.62·0.4·L_A, L_A − L_C = 0.4·L_A → 62 %.
    spectra = three_spheres(mu=0.0)
    del spectra["out_of_beam"]
    result = run("plqy", spectra)
    assert result.metrics["plqy"].value == pytest.approx(62.0, abs=0.3)
    assert result.parameters["method"] == "two-measurement"


def test_two_measurement_form_with_a_sample_that_also_absorbs_diffuse_light():
    # Hand value with μ = 0.1: P_C = η·L_A·(A + (1 − A)·μ) = 0.62·0.46·L_A and
    # L_A − L_C = L_A·(1 − 0.9·0.6) = 0.46·L_A → 62 %: in this model L_C carries the diffuse loss too.
    spectra = three_spheres()
    del spectra["out_of_beam"]
    expected = TRUE_PLQY * (ABSORPTANCE + (1 - ABSORPTANCE) * MU) / (1 - (1 - MU) * (1 - ABSORPTANCE))
    assert run("plqy", spectra).metrics["plqy"].value == pytest.approx(100 * expected, abs=0.3)


def test_empty_sphere_without_excitation_peak_is_refused():
    spectra = three_spheres()
    spectra["empty"] = [("A_dark.csv", sphere_spectrum(0.0, 0.0, 4))]
    with pytest.raises(AnalysisError, match="no excitation"):
        run("plqy", spectra)


def test_emission_band_uploaded_as_empty_sphere_is_refused():
    spectra = three_spheres()
    spectra["empty"] = [("A_is_pl.csv", sphere_spectrum(0.0, 5000.0, 5))]
    with pytest.raises(AnalysisError, match="not an excitation line"):
        run("plqy", spectra)


def test_sample_that_absorbs_nothing_is_refused():
    spectra = three_spheres()
    spectra["in_beam"] = spectra["out_of_beam"]
    with pytest.raises(AnalysisError, match="absorbs none"):
        run("plqy", spectra)


def test_half_a_window_is_refused():
    with pytest.raises(AnalysisError, match="give both emission_min_nm and emission_max_nm"):
        run("plqy", three_spheres(), {"emission_min_nm": 560})


def test_plot_shows_the_three_spectra_and_windows():
    result = run("plqy", three_spheres())
    (chart,) = charts_for("plqy", result)
    assert chart["name"] == "plqy_spectra" and chart["y"]["log"]  # the laser is decades above the emission
    assert [s["label"] for s in chart["series"]] == ["A empty sphere", "B out of beam", "C in beam"]
    assert [b["label"] for b in chart["bands"]] == ["excitation", "emission"]
