"""Lifetime analysis against public/answers.json: per-file T50, acceleration n, T50 at 100 cd/m²."""

from __future__ import annotations

import pytest

from measurements.analysis.base import AnalysisError
from measurements.analysis.charts import charts_for
from measurements.analysis.registry import run
from measurements.parsers import ParseError


def _lifetime_files(data_dir, answers):
    return [(c["file"], (data_dir / "public" / c["file"]).read_bytes()) for c in answers["lifetime"]["curves"]]


def test_per_file_t50_matches_answers(data_dir, answers):
    expected = answers["lifetime"]
    result = run("lifetime", {"files": _lifetime_files(data_dir, answers)})
    assert [f["file"] for f in result.per_file] == [c["file"] for c in expected["curves"]]
    for entry, curve in zip(result.per_file, expected["curves"], strict=True):
        metrics = entry["metrics"]
        assert metrics["t50"]["value"] == pytest.approx(curve["T50_h"], rel=expected["tolerance"]["T50_rel"])
        assert metrics["t50"]["unit"] == "h"
        assert metrics["initial_luminance"]["value"] == pytest.approx(curve["L0_cd_m2"], rel=0.01)
        assert metrics["t95"]["value"] < metrics["t90"]["value"] < metrics["t70"]["value"] < metrics["t50"]["value"]
        assert "flags" not in metrics["t50"]  # every public run goes below 50 %


def test_acceleration_factor_and_t50_at_100(data_dir, answers):
    expected = answers["lifetime"]
    result = run("lifetime", {"files": _lifetime_files(data_dir, answers)})
    # Several files: the top level holds only the cross-run metrics (documented in lifetime.py).
    assert set(result.metrics) == {"lifetime_acceleration_n", "t50_at_100_cd"}
    n = result.metrics["lifetime_acceleration_n"]
    t100 = result.metrics["t50_at_100_cd"]
    assert n.value == pytest.approx(expected["n"], abs=expected["tolerance"]["n_abs"])
    assert t100.value == pytest.approx(expected["T50_at_100_h"], rel=expected["tolerance"]["T50_100_rel"])
    assert t100.unit == "h"
    assert 0 < n.uncertainty < 0.05
    assert 0 < t100.uncertainty < 0.05 * t100.value
    assert "extrapolated" in t100.flags


def test_single_file_top_level_is_that_files_metrics(data_dir, answers):
    curve = answers["lifetime"]["curves"][0]
    result = run("lifetime", {"files": [(curve["file"], (data_dir / "public" / curve["file"]).read_bytes())]})
    assert set(result.metrics) == {"initial_luminance", "t95", "t90", "t70", "t50"}
    assert result.metrics["t50"].value == pytest.approx(curve["T50_h"], rel=0.03)
    assert "lifetime_acceleration_n" not in result.metrics


def test_run_stopped_before_half_is_extrapolated_and_flagged(data_dir, answers):
    curve = answers["lifetime"]["curves"][0]
    lines = (data_dir / "public" / curve["file"]).read_text().splitlines()
    # keep the run only while L > 62 % of L0 (≈ 17 h of a 28 h T50)
    kept = lines[:2] + [ln for ln in lines[2:] if float(ln.split(",")[1]) > 0.62 * curve["L0_cd_m2"]]
    result = run("lifetime", {"files": [("stopped_early.csv", "\n".join(kept).encode())]})
    t50 = result.metrics["t50"]
    assert t50.flags == ("extrapolated",)
    assert t50.value == pytest.approx(curve["T50_h"], rel=0.05)
    assert t50.value > t50.extra["run_length_h"]
    assert result.metrics["t70"].flags == ()  # reached within the run: interpolated
    assert any("extrapolated" in w for w in result.warnings)


def test_lifetime_in_seconds(data_dir, answers):
    curve = answers["lifetime"]["curves"][0]
    result = run("lifetime", {"files": [("s.tsv", (data_dir / "dialects/lifetime_seconds.tsv").read_bytes())]})
    assert result.metrics["t50"].value == pytest.approx(curve["T50_h"], rel=0.03)


def test_luminance_that_never_falls_is_refused(data_dir):
    with pytest.raises(AnalysisError, match="luminance never falls"):
        run("lifetime", {"files": [("flat.csv", (data_dir / "dialects/lifetime_flat.csv").read_bytes())]})


def test_runs_at_the_same_luminance_cannot_give_n(data_dir, answers):
    content = (data_dir / "public/lifetime_1.csv").read_bytes()
    with pytest.raises(AnalysisError, match="different L0"):
        run("lifetime", {"files": [("a.csv", content), ("b.csv", content)]})


def test_jlv_file_is_not_a_lifetime(data_dir):
    with pytest.raises((ParseError, AnalysisError)):
        run("lifetime", {"files": [("jlv.csv", (data_dir / "public/jlv_sweep.csv").read_bytes())]})


def test_plots(data_dir, answers):
    result = run("lifetime", {"files": _lifetime_files(data_dir, answers)})
    charts = {c["name"]: c for c in charts_for("lifetime", result)}
    assert set(charts) == {"lifetime_decay", "lifetime_acceleration"}
    decay = charts["lifetime_decay"]
    assert decay["x"] == {"label": "time", "unit": "h", "log": False} and decay["y"]["label"] == "L / L0"
    # T50 of each run marked at L/L0 = 0.5
    assert [m["x"] for m in decay["marks"]] == pytest.approx(list(result.arrays["t50_h"]), rel=1e-5)
    assert {m["y"] for m in decay["marks"]} == {0.5}
