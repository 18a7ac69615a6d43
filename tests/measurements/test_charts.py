"""Charts stored with an analysis (measurements/analysis/charts.py): the shape-keeping downsampling
against hand-made answers, and the public J-L-V + EL pair's charts — axes with units, lengths, and
the extremes (the EQE maximum, the EL peak) kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from measurements.analysis.charts import MAX_POINTS, charts_for, downsample_indices, series
from measurements.analysis.plotting import MAX_SVG_BYTES, render_chart
from measurements.analysis.registry import run
from tests.conftest import DATA_DIR


def test_downsampling_keeps_ends_and_each_buckets_min_and_max():
    y = np.zeros(1000)
    y[137], y[612] = 5.0, -3.0  # one spike up, one down, anywhere
    idx = downsample_indices(y, 100)
    assert len(idx) <= 100 and idx[0] == 0 and idx[-1] == 999
    assert 137 in idx and 612 in idx
    assert np.all(np.diff(idx) > 0)  # in order, no repeats: a drawable line


def test_short_series_are_kept_whole_and_gaps_stay_gaps():
    assert list(downsample_indices(np.arange(10.0), 500)) == list(range(10))
    y = np.r_[np.ones(400), np.full(400, np.nan), np.ones(400)]
    kept = y[downsample_indices(y, 100)]
    assert np.isnan(kept).any() and np.isfinite(kept).sum() > 10


def test_series_stores_json_numbers_only():
    s = series("x", [1.0, 2.0, 3.0], [1.0, np.inf, 0.123456789])
    assert s["y"] == [1.0, None, 0.123457]  # 6 significant digits; inf → null (valid JSON)
    json.dumps(s, allow_nan=False)
    with pytest.raises(ValueError, match="2 x values but 3 y values"):
        series("bad", [1, 2], [1, 2, 3])


@pytest.fixture(scope="module")
def pair():
    data_dir = DATA_DIR
    files = {"jlv": [("jlv_sweep.csv", (data_dir / "public/jlv_sweep.csv").read_bytes())],
             "el": [("el_spectrum.txt", (data_dir / "public/el_spectrum.txt").read_bytes())]}
    result = run("jlv", files, {"pixel_area_cm2": 0.09})
    return result, {c["name"]: c for c in charts_for("jlv", result)}


def test_reference_pair_charts_have_axes_with_units(pair):
    _, charts = pair
    assert list(charts) == ["jv", "lv", "eqe_j", "el_spectrum", "cie"]
    assert charts["jv"]["x"] == {"label": "voltage", "unit": "V", "log": False}
    assert charts["jv"]["y"] == {"label": "current density |J|", "unit": "mA/cm²", "log": True}
    assert charts["lv"]["y"] == {"label": "luminance", "unit": "cd/m²", "log": True}
    assert charts["eqe_j"]["x"] == {"label": "current density", "unit": "mA/cm²", "log": True}
    assert charts["eqe_j"]["y"] == {"label": "EQE", "unit": "%", "log": False}
    assert charts["el_spectrum"]["x"]["unit"] == "nm"
    assert charts["eqe_j"]["metrics"] == ["eqe_max", "j_at_eqe_max", "eqe_at_100_ma_cm2"]


def test_reference_pair_curves_are_downsampled_and_keep_their_extremes(pair):
    result, charts = pair
    a = result.arrays
    # The sweep (161 points) is kept whole; the 1044-point EL spectrum is downsampled to ≤ 500.
    assert len(charts["jv"]["series"][0]["x"]) == a["voltage_v"].size == 161
    el = charts["el_spectrum"]["series"][0]
    assert a["wavelength_nm"].size == 1044 and len(el["x"]) <= MAX_POINTS and len(el["x"]) == len(el["y"])
    peak_at = el["x"][int(np.nanargmax(np.array(el["y"], dtype=float)))]
    assert max(el["y"]) == 1.0 and peak_at == pytest.approx(float(a["wavelength_nm"][np.argmax(a["el_power"])]), rel=1e-6)
    # The EQE maximum is a point of the stored EQE curve, and is marked.
    eqe = charts["eqe_j"]["series"][0]
    best, j_best = result.metrics["eqe_max"].value, result.metrics["j_at_eqe_max"].value
    k = int(np.argmax(eqe["y"]))
    assert eqe["y"][k] == pytest.approx(best, rel=1e-5) and eqe["x"][k] == pytest.approx(j_best, rel=1e-5)
    assert charts["eqe_j"]["marks"][0]["symbol"] == "star"
    # …also when the curve is longer than a chart keeps (forced here to 40 points).
    ok = np.isfinite(a["eqe_percent"]) & (a["current_density_ma_cm2"] > 0)
    short = series("EQE", a["current_density_ma_cm2"][ok], a["eqe_percent"][ok], max_points=40)
    assert len(short["y"]) <= 40 and max(short["y"]) == pytest.approx(best, rel=1e-5)


def test_a_stored_chart_renders_as_png_and_a_small_svg(pair):
    _, charts = pair
    for chart in charts.values():
        assert render_chart(chart, "png")[:4] == b"\x89PNG"
        assert len(render_chart(chart, "svg")) <= MAX_SVG_BYTES
    with pytest.raises(ValueError, match="pdf"):
        render_chart(charts["jv"], "pdf")


def test_downsampling_keeps_the_first_of_equal_extremes_and_small_asks():
    # One bucket [1, 5): its max and min are the same first index (as np.argmax/argmin give).
    assert list(downsample_indices(np.ones(6), 4)) == [0, 1, 5]
    # One bucket [1, 5) of 5, 1, 2, 9: its max (4) and min (2), and both ends.
    assert list(downsample_indices(np.array([0.0, 5.0, 1.0, 2.0, 9.0, 3.0]), 5)) == [0, 2, 4, 5]
    # Buckets [1, 3) (5, 1) and [3, 6) (2, 9, 3): max 1, min 2; max 4, min 3; both ends.
    assert list(downsample_indices(np.array([0.0, 5.0, 1.0, 2.0, 9.0, 3.0, 4.0]), 6)) == [0, 1, 2, 3, 4, 6]
    assert list(downsample_indices(np.array([1.0, 2.0]), 1)) == [0, 1]
