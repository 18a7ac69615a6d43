"""TRPL: reference decay from answers.json, the real TimeHarp export, and bad input."""

import json
from pathlib import Path

import numpy as np
import pytest

import measurements.analysis.trpl  # noqa: F401  (registers the kind even if another analysis was imported first)
from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.registry import run
from measurements.analysis.trpl import analyse_decay
from measurements.parsers import parse_bytes

DATA = Path(__file__).resolve().parents[1] / "data"
ANSWERS = json.loads((DATA / "public" / "answers.json").read_text())["files"]["trpl"]
REAL = DATA / "real" / "07-Si6505_10kHz-ND1-0.40uW-300s.trpl.dat"


def _run(path: Path, **params):
    return run("trpl", {"files": [(path.name, path.read_bytes())]}, params)


@pytest.fixture(scope="module")
def public_result():
    return _run(DATA / "public" / ANSWERS["file"])


def test_public_decay_reproduces_answers(public_result):
    result = public_result
    rel = ANSWERS["tolerance"]["rel"]
    m = result.metrics
    assert m["tau_1"].value == pytest.approx(ANSWERS["tau1_ns"], rel=rel)
    assert m["tau_2"].value == pytest.approx(ANSWERS["tau2_ns"], rel=rel)
    assert m["tau_avg"].value == pytest.approx(ANSWERS["tau_avg_intensity_weighted_ns"], rel=rel)
    assert "tau_3" not in m  # BIC picks two components for a bi-exponential decay
    assert m["tau_avg"].extra["n_exp"] == 2 and m["tau_avg"].unit == "ns"
    assert m["tau_1"].extra["amplitude_counts"] > 0
    # 5-count background (README): the joint fit recovers it.
    assert result.parameters["background_counts"] == pytest.approx(5.0, rel=0.1)
    res = result.arrays["residuals_weighted"]
    assert res.size == result.arrays["fit_counts"].size
    assert abs(np.mean(res)) < 0.1 and np.std(res) == pytest.approx(1.0, abs=0.15)


def test_fixed_component_count_is_respected():
    result = _run(DATA / "public" / ANSWERS["file"], n_exp=1)
    assert set(result.metrics) == {"tau_1", "tau_avg"}
    assert result.metrics["tau_avg"].extra["selection"] == "fixed by n_exp"


def test_two_column_file_is_read_as_tcspc_not_generic():
    parsed = parse_bytes((DATA / "public" / "trpl.dat").read_bytes(), filename="trpl.dat")
    assert parsed.format == "tcspc_two_column" and parsed.shape == "decay"
    assert list(parsed.data.columns) == ["time_ns", "counts"]
    assert parsed.metadata["ns_per_bin"] == pytest.approx(0.101, abs=1e-3)


def test_real_timeharp_export_parses_to_readme_values():
    parsed = parse_bytes(REAL.read_bytes(), filename=REAL.name)
    counts = parsed.data["counts"].to_numpy()
    assert parsed.format == "picoquant_histogram" and parsed.shape == "decay"
    assert parsed.metadata["channels"] == 32768 and counts.size == 32768
    assert parsed.metadata["ns_per_bin"] == 1.0
    assert int(np.argmax(counts)) == 265 and counts.max() == 565
    assert counts.sum() == 57177
    assert parsed.data["time_ns"].iloc[265] == pytest.approx(265.0)


def test_real_timeharp_decay_fits():
    # Sparse (≈0.2 counts/channel background) but 57k counts: the Poisson fit must succeed.
    result = _run(REAL)
    m = result.metrics
    assert result.parameters["fit_start_ns"] == pytest.approx(265.0)
    assert result.parameters["background_counts"] == pytest.approx(0.2, abs=0.1)
    taus = [m[f"tau_{i}"].value for i in range(1, m["tau_avg"].extra["n_exp"] + 1)]
    assert taus == sorted(taus)
    # Mean counts fall ~e-fold between 300–400 ns and 400–600 ns: the fast component is tens of ns.
    assert 20 < taus[0] < 150
    assert taus[0] < m["tau_avg"].value < 32768


def test_all_background_decay_fails_with_reason():
    rng = np.random.default_rng(1)
    time_ns = np.arange(2000) * 0.1
    with pytest.raises(AnalysisError, match="no decay above background"):
        analyse_decay(time_ns, rng.poisson(5.0, time_ns.size).astype(float))


def test_all_background_file_fails_through_run(tmp_path):
    rng = np.random.default_rng(2)
    lines = ["Time[ns]\tCounts"] + [f"{0.1 * i:.3f}\t{c}" for i, c in enumerate(rng.poisson(3.0, 1000))]
    path = tmp_path / "flat.dat"
    path.write_text("\n".join(lines))
    with pytest.raises(AnalysisError, match="no decay above background"):
        _run(path)


def test_bad_n_exp_is_refused():
    with pytest.raises(AnalysisError, match="n_exp"):
        _run(DATA / "public" / "trpl.dat", n_exp=5)


def test_charts_are_the_decay_with_its_fit_and_the_residuals(public_result):
    decay, residuals = charts_for("trpl", public_result)
    assert decay["name"] == "decay" and decay["y"]["log"] and decay["x"]["unit"] == "ns"
    assert [s["style"] for s in decay["series"]] == ["points", "line"]
    assert residuals["name"] == "residuals"
    # downsampled, keeping the peak channel (min/max per bucket)
    counts = decay["series"][0]["y"]
    assert len(counts) <= 500 and max(c for c in counts if c is not None) == pytest.approx(
        float(public_result.arrays["counts"].max()), rel=1e-5)


# Taus and BIC of the real 32k-channel decays as fitted by trpl.multiexp 1.0 before its speed-up
# (L-BFGS-B from five log-spaced starts per model, refined on every channel): the faster search
# (nested starts, Newton polish on the exact Hessian) must find the same optimum.
PREVIOUS_OPTIMA = {
    REAL: ({"tau_1": 54.364574, "tau_2": 327.28479, "tau_3": 3283.4514, "tau_avg": 618.26983},
           {"1": 43810.300505, "2": 29732.873042, "3": 27858.045674}),
    DATA / "real-world" / "M0-FAPI3Q6-Spot2_5400s_10kHz_ND1_210cps_0.0209011uW.trpl.dat": (
        {"tau_1": 5.145387, "tau_2": 921.44384, "tau_3": 5817.2404, "tau_avg": 5067.4369},
        {"1": 44340.997744, "2": 35849.214076, "3": 34007.446233}),
}


@pytest.mark.parametrize("path", list(PREVIOUS_OPTIMA), ids=lambda p: p.name[:12])
def test_real_32k_decays_keep_the_previous_optimum(path):
    taus, bic = PREVIOUS_OPTIMA[path]
    m = _run(path).metrics
    for name, value in taus.items():
        assert m[name].value == pytest.approx(value, rel=1e-5), name
    assert m["tau_avg"].extra["bic"] == pytest.approx(bic, abs=1e-3)
    assert m["tau_avg"].extra["n_exp"] == 3
