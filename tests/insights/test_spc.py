"""Control charts: textbook limits, each rule on a sequence made to break it, the bad lot found."""

from __future__ import annotations

import numpy as np
import pytest

from insights.science import prepare, spc
from tests.insights.campaign_frame import DATE, LOT, VERSION


def test_limits_are_mean_plus_minus_three_mr_bar_over_d2():
    x = np.array([10.0, 10.4, 9.8, 10.1, 10.3, 9.9, 10.2, 10.0])
    chart = spc.individuals_chart(x)
    mr_bar = np.abs(np.diff(x)).mean()
    assert chart.centre == pytest.approx(x.mean())
    assert chart.sigma == pytest.approx(mr_bar / 1.128)
    assert chart.ucl == pytest.approx(x.mean() + 3 * mr_bar / 1.128)
    assert chart.mr_ucl == pytest.approx(3.267 * mr_bar)
    assert chart.hits == []


def _rules(values, centre=0.0, sigma=1.0):
    return {(h.rule, tuple(h.indices)) for h in spc.rule_hits(np.array(values, float), centre, sigma)}


def test_each_rule_on_its_own_pattern():
    assert (1, (2,)) in _rules([0, 0.5, 3.4, 0, -0.5])
    assert (2, (1, 2)) in _rules([0.1, 2.3, 2.5, -0.2, 0.1])
    assert {r for r, _ in _rules([0.1, 2.3, -0.4, 2.5, 0.1])} == {2}  # 2 of 3 with a gap
    assert (3, (0, 1, 2, 3)) in _rules([1.2, 1.5, 1.1, 1.3, 0.2, -0.3])
    assert (4, tuple(range(8))) in _rules([0.2, 0.4, 0.1, 0.3, 0.5, 0.2, 0.6, 0.1, -0.5])
    assert (5, tuple(range(6))) in _rules([-0.5, -0.3, -0.1, 0.1, 0.3, 0.5, 0.0])
    assert _rules([0.3, -0.4, 0.8, -0.2, 0.5, -0.9, 0.1, -0.3]) == set()


def test_phase_one_leaves_a_wild_point_out_of_the_limits():
    x = np.array([10.0, 10.2, 9.9, 10.1, 14.0, 10.0, 9.8, 10.1, 10.2, 9.9])
    chart = spc.individuals_chart(x)
    assert chart.points[4].excluded_from_limits and chart.points[4].rules == [1]
    kept = np.delete(x, 4)
    assert chart.centre == pytest.approx(kept.mean())


def test_too_few_points_make_no_limits():
    chart = spc.individuals_chart([1.0, 2.0, 3.0])
    assert chart.centre is None and "at least 5" in chart.warnings[0]


@pytest.fixture(scope="module")
def campaign_units(analysed):
    def units(metric):
        table = prepare.unit_table(analysed, metrics=[metric], parameters=[], unit="device", extra=[VERSION, LOT, DATE])
        return table.units.reset_index()
    return units


@pytest.mark.parametrize("metric", ["t50", "eqe_max", "luminance_max"])
def test_the_bad_lot_is_flagged(campaign_units, metric):
    units = campaign_units(metric)
    charts = spc.charts_by_group(units, metric=metric, group=VERSION, date=DATE, label="device")
    lots = {s.lot: s for s in spc.by_lot(charts, dict(zip(units["device"], units[LOT], strict=True)))}
    assert [lot for lot, s in lots.items() if s.flagged] == ["DEMO-PEAI-02"]
    assert lots["DEMO-PEAI-02"].shift_sigma < -2
    assert sorted(lots["DEMO-PEAI-02"].labels) == ["DEV-18", "DEV-19", "DEV-20"]


def test_t50_chart_of_v2_marks_the_bad_lot_devices(campaign_units):
    units = campaign_units("t50")
    v2 = next(c for c in spc.charts_by_group(units, metric="t50", group=VERSION, date=DATE, label="device") if c.group == "v2")
    flagged = {p.label for p in v2.points if 1 in p.rules}
    assert flagged == {"DEV-18", "DEV-19", "DEV-20"}
    # In run-date order (one point per device).
    assert [p.date for p in v2.points] == sorted(p.date for p in v2.points)
