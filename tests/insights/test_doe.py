"""suggest(): a lower regret than random search on a known objective, and it keeps to its space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insights.science.doe import predict, suggest, weighted_objective

# Hartmann 3-D (Dixon & Szegő 1978): maximum 3.86278 at (0.114614, 0.555649, 0.852547).
A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
C = np.array([1.0, 1.2, 3.0, 3.2])
F_MAX = 3.86278
SPACE = [{"name": f"x{i}", "low": 0.0, "high": 1.0} for i in range(3)]


def hartmann3(x: np.ndarray) -> np.ndarray:
    x = np.atleast_2d(x)
    return (C * np.exp(-(A[None] * (x[:, None, :] - P[None]) ** 2).sum(-1))).sum(-1)


def test_hartmann_known_optimum():
    assert hartmann3(np.array([0.114614, 0.555649, 0.852547]))[0] == pytest.approx(F_MAX, abs=1e-4)


def bo_regret(seed: int, rounds: int = 8, batch: int = 3) -> float:
    history = pd.DataFrame(columns=["x0", "x1", "x2", "y"], dtype=float)
    for r in range(rounds):
        s = suggest(history, SPACE, "y", batch, seed=seed * 100 + r)
        s["y"] = hartmann3(s[["x0", "x1", "x2"]].to_numpy(float))
        history = pd.concat([history, s[["x0", "x1", "x2", "y"]]], ignore_index=True)
    return F_MAX - history["y"].max()


def random_regret(seed: int, n: int = 24) -> float:
    return F_MAX - hartmann3(np.random.default_rng(seed).uniform(size=(n, 3))).max()


def test_lower_regret_than_random_search_over_seeds():
    seeds = range(5)
    bo = [bo_regret(s) for s in seeds]
    rs = [random_regret(s) for s in seeds]
    assert np.median(bo) < np.median(rs) / 3
    assert sum(b < r for b, r in zip(bo, rs, strict=True)) >= 4


def _history(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 3))
    frame = pd.DataFrame(x, columns=["x0", "x1", "x2"])
    frame["y"] = hartmann3(x) + rng.normal(0, 0.02, n)
    return frame


def test_result_shape_ranges_and_determinism():
    space = [{"name": "x0", "low": 0.2, "high": 0.4}, {"name": "x1", "low": 0.0, "high": 1.0}, {"name": "x2", "value": 0.85}]
    out = suggest(_history(), space, "y", 4, seed=3)
    assert list(out.columns) == ["x0", "x1", "x2", "predicted", "predicted_std"] and len(out) == 4
    assert out["x0"].between(0.2, 0.4).all() and out["x1"].between(0, 1).all() and (out["x2"] == 0.85).all()
    assert (out["predicted_std"] >= 0).all() and out["predicted"].notna().all()
    assert len(out.drop_duplicates(["x0", "x1"])) == 4  # the believer spreads the batch
    pd.testing.assert_frame_equal(out, suggest(_history(), space, "y", 4, seed=3))


def test_categorical_choice_is_learnt():
    rng = np.random.default_rng(1)
    lots = rng.choice(["good", "bad", "ok"], 40)
    x = rng.uniform(size=40)
    history = pd.DataFrame({"x": x, "lot": lots,
                            "y": -(x - 0.7) ** 2 + np.select([lots == "good", lots == "ok"], [1.0, 0.5], 0.0)})
    out = suggest(history, [{"name": "x", "low": 0, "high": 1}, {"name": "lot", "choices": ["good", "bad", "ok"]}], "y", 2, seed=0)
    assert out.loc[0, "lot"] == "good" and abs(out.loc[0, "x"] - 0.7) < 0.15


def test_minimise_and_no_history():
    out = suggest(_history(), SPACE, "y", 1, maximize=False, seed=0)
    assert out.loc[0, "predicted"] < _history()["y"].median()
    first = suggest(pd.DataFrame(columns=["x0", "x1", "x2", "y"]), SPACE, "y", 3, seed=0)
    assert first["predicted"].isna().all() and "space-filling" in first.attrs["warnings"][0]


def test_errors_are_for_people():
    with pytest.raises(ValueError, match="no column 'eqe'"):
        suggest(_history(), SPACE, "eqe", 2)
    with pytest.raises(ValueError, match="low 2 is above high 1"):
        suggest(_history(), [{"name": "x0", "low": 2, "high": 1}], "y", 2)


def test_predict_and_weighted_objective():
    h = _history()
    pts = pd.DataFrame({"x0": [0.11], "x1": [0.56], "x2": [0.85]})
    p = predict(h, SPACE, "y", pts, seed=0)
    assert p.loc[0, "predicted"] == pytest.approx(F_MAX, abs=0.6)
    frame = pd.DataFrame({"eqe": [10.0, 12.0, 14.0], "t50": [10.0, 100.0, 1000.0]})
    score = weighted_objective(frame, {"eqe": 0.5, "t50": 0.5}, log=("t50",))
    assert score.tolist() == pytest.approx([-1.0, 0.0, 1.0])  # z-scores (sample sd) averaged
