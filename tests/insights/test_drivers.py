"""Drivers: the demo ground truth in order and sign, no effect for the null knob, honest n."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from insights.science import drivers
from insights.science.campaign import GROUND_TRUTH, NULL_KNOB
from tests.insights.campaign_frame import CLUSTERS, KNOB_COLUMNS, LOT, VERSION

PARAMETERS = [*KNOB_COLUMNS.values(), VERSION, LOT]
COLUMN_KNOB = {v: k for k, v in KNOB_COLUMNS.items()}


@pytest.fixture(scope="module")
def table(analysed):
    return drivers.analyse(analysed, metrics=list(GROUND_TRUTH), parameters=PARAMETERS, clusters=CLUSTERS)


@pytest.mark.parametrize("metric", list(GROUND_TRUTH))
def test_ground_truth_order_and_sign(table, metric):
    numeric = [r for r in table.for_metric(metric) if r.kind == "numeric" and COLUMN_KNOB[r.parameter] != NULL_KNOB]
    found = [(COLUMN_KNOB[r.parameter], r.sign) for r in numeric][: len(GROUND_TRUTH[metric])]
    assert found == GROUND_TRUTH[metric]
    # The strongest driver is not a fluke.
    assert numeric[0].significant


@pytest.mark.parametrize("metric", list(GROUND_TRUTH))
def test_the_null_knob_has_an_interval_across_zero(table, metric):
    null = next(r for r in table.for_metric(metric) if r.parameter == KNOB_COLUMNS[NULL_KNOB])
    assert null.ci_low < 0 < null.ci_high
    assert abs(null.effect) < 0.3


def test_devices_sharing_a_precursor_batch_count_once(table):
    peai = next(r for r in table.for_metric("eqe_max") if r.parameter == KNOB_COLUMNS["pea_pb"])
    assert (peai.n_runs, peai.n_units) == (12, 30)
    drip = next(r for r in table.for_metric("eqe_max") if r.parameter == KNOB_COLUMNS["drip_ul"])
    assert drip.n_runs is None and drip.n_units == 30 and drip.n_rows == 117  # 120 pixels, 3 shorted


def test_a_shared_run_is_its_first_value_against_the_median_of_its_units():
    # Runs out of order, groups of 1, 2, 3 and 4 units, a tie within a run.
    runs = np.array(["b", "a", "b", "c", "a", "b", "d", "d", "d", "d"], dtype=object)
    x = np.array([2.0, 1.0, 2.0, 3.0, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0])
    y = np.array([5.0, 7.0, 1.0, 9.0, 3.0, 5.0, 8.0, 2.0, 6.0, 2.0])
    per_x, per_y = drivers._per_run(x, y, runs)
    # By hand, in order of first appearance: b {5, 1, 5} -> 5; a {7, 3} -> 5; c {9} -> 9;
    # d {8, 2, 6, 2} -> (2 + 6) / 2 = 4.
    assert per_x.tolist() == [2.0, 1.0, 3.0, 4.0]
    assert per_y.tolist() == [5.0, 5.0, 9.0, 4.0]
    grouped = pd.DataFrame({"x": x, "y": y, "run": runs}).groupby("run", sort=False)
    assert per_x.tolist() == grouped["x"].first().tolist() and per_y.tolist() == grouped["y"].median().tolist()


def test_no_shared_run_or_a_unit_without_a_run_gives_no_per_run_table():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    assert drivers._per_run(x, y, np.array(["a", "b", "c"], dtype=object)) is None
    assert drivers._per_run(x, y, np.array(["a", "a", None], dtype=object)) is None


def test_the_screen_measures_take_level_codes_with_gaps():
    # Codes as factorized over all units, some levels absent from these: the same values as with
    # the levels renumbered, and the rank correlation ratio is √(H/(n − 1)) of scipy's Kruskal–Wallis.
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0])
    gapped = np.array([0, 4, 4, 0, 7, 7, 0, 4, 7, 0, 4, 7])
    compact = np.unique(gapped, return_inverse=True)[1]
    eta = drivers._kruskal_eta(gapped, drivers._ranks(values))
    assert eta == drivers._kruskal_eta(compact, drivers._ranks(values))
    h = stats.kruskal(*(values[gapped == level] for level in (0, 4, 7))).statistic
    assert eta == pytest.approx(math.sqrt(h / (values.size - 1)), rel=1e-12)
    other = np.array([2, 2, 5, 5, 2, 5, 5, 2, 2, 5, 5, 2])
    assert drivers._cramers_v(gapped, other) == drivers._cramers_v(compact, np.unique(other, return_inverse=True)[1])


def test_slope_is_in_metric_units_per_parameter_unit(table):
    drip = next(r for r in table.for_metric("eqe_max") if r.parameter == KNOB_COLUMNS["drip_ul"])
    # Ground truth: 2.4 %/50 µL at the centre, less at the top (−0.6·d²): ≈ 0.03–0.06 %/µL.
    assert 0.02 < drip.slope < 0.07 and drip.slope_ci_low < drip.slope < drip.slope_ci_high


def test_spearman_interval_by_hand():
    x = np.arange(20.0)
    y = x + np.array([3, -2, 5, 0, -4, 2, 1, -3, 4, -1, 0, 2, -5, 3, 1, -2, 4, 0, -3, 2], float)
    frame = pd.DataFrame({"device": [f"D{i}" for i in range(20)], "m": y, "p": x})
    row = drivers.analyse(frame, metrics=["m"], parameters=["p"]).rows[0]
    rho = stats.spearmanr(x, y)[0]
    se = math.sqrt((1 + rho**2 / 2) / 17)
    assert row.effect == pytest.approx(rho)
    assert (row.ci_low, row.ci_high) == pytest.approx((math.tanh(math.atanh(rho) - 1.959964 * se),
                                                       math.tanh(math.atanh(rho) + 1.959964 * se)), abs=1e-5)


def test_rank_biserial_by_hand():
    # Every value of level "b" above every value of "a": U = n1·n2, r = +1 for b.
    frame = pd.DataFrame({"device": list("abcdefgh"), "m": [1, 2, 3, 4, 10, 11, 12, 13], "lot": list("aaaabbbb")})
    row = drivers.analyse(frame, metrics=["m"], parameters=["lot"]).rows[0]
    assert row.kind == "categorical" and abs(row.effect) == pytest.approx(1.0)
    assert row.level_shift == pytest.approx(-9.0 if row.level == "a" else 9.0)


def test_confounded_parameters_and_too_few_units_are_said():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=30)
    frame = pd.DataFrame({"device": [f"D{i}" for i in range(30)], "m": 2 * x + rng.normal(0, 0.1, 30), "a": x,
                          "b": x * 3 + 0.01 * rng.normal(size=30), "few": [np.nan] * 26 + [1.0, 2.0, 3.0, 4.0]})
    table = drivers.analyse(frame, metrics=["m"], parameters=["a", "b", "few"])
    assert [(c.first, c.second) for c in table.confounded] == [("a", "b")]
    a = next(r for r in table.rows if r.parameter == "a")
    assert any("moves together with b" in w for w in a.warnings)
    few = next(r for r in table.rows if r.parameter == "few")
    assert few.effect is None and "only 4 unit(s)" in few.warnings[0]


def test_pixels_are_not_counted_as_devices():
    # Four pixels per device, identical within the device: n is 6 devices, not 24 pixels.
    frame = pd.DataFrame({"device": np.repeat([f"D{i}" for i in range(6)], 4), "m": np.repeat(np.arange(6.0), 4),
                          "p": np.repeat(np.arange(6.0) ** 2, 4)})
    row = drivers.analyse(frame, metrics=["m"], parameters=["p"]).rows[0]
    assert (row.n_units, row.n_rows) == (6, 24) and row.effect == pytest.approx(1.0)
    assert any("wide interval" in w for w in row.warnings)


def test_lifetimes_at_another_initial_luminance_are_left_out():
    frame = pd.DataFrame({"device": [f"D{i}" for i in range(8)], "t50": [20, 21, 19, 22, 18, 20, 2.0, 21],
                          "initial_luminance": [1000, 990, 1010, 1005, 995, 1000, 4000, 1000], "p": range(8)})
    table = drivers.analyse(frame, metrics=["t50"], parameters=["p"])
    assert table.rows[0].n_units == 7
    assert any("D6 (4000 cd/m²)" in w for w in table.warnings)
