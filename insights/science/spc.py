"""Is the process in control: individuals / moving-range (I-MR) charts and run rules.

One chart per group (a recipe version: a new version is a deliberate change of the process, so it
gets its own limits), points in run-date order, one point per unit (the median of a device's
pixels; ``prepare.unit_table``).

Limits (Montgomery, *Introduction to Statistical Quality Control*, 8th ed., §6.4):
centre = mean of the points, σ̂ = MR̄/1.128 from the moving ranges MR_i = |x_i − x_{i−1}|,
UCL/LCL = centre ± 3σ̂, and the MR chart's UCL = 3.267·MR̄. Phase I: points beyond 3σ̂ are left out
of the limits and the limits recomputed until no point changes side (at most five times); they
stay on the chart and are judged by the final limits. ``sigma="median_mr"`` uses the median moving
range instead (σ̂ = MR̃/0.954, no Phase I), which one step change does not widen.

Rules (Western Electric Statistical Quality Control Handbook, 1956; rule 5 is Nelson's 3rd, J.
Qual. Technol. 16, 237, 1984), all judged against the final limits:

1. one point beyond 3σ
2. two of three consecutive points beyond 2σ on the same side
3. four of five consecutive points beyond 1σ on the same side
4. eight consecutive points on the same side of the centre line
5. six consecutive points steadily rising or falling

A hit names the points that make the pattern. Fewer than ``MIN_POINTS`` points make no limits
(a warning says so): three devices say nothing about a process's spread.

``by_lot`` puts the same unit values beside the chemical lot they were made with: each lot
against all the others (Mann–Whitney U, Holm-adjusted over the lots), its median's shift from the
median of all points in σ̂, and how many of its points broke a rule. A lot is flagged when it
differs (adjusted p < 0.05) and lies at least one σ̂ from the process median, or when most of its
points broke a rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

D2 = 1.128  # E[MR]/σ for n = 2
MEDIAN_MR_FACTOR = 0.954  # median(MR)/σ for n = 2
D4 = 3.267  # MR chart UCL / MR̄
MIN_POINTS = 5
PHASE_ONE_ITERATIONS = 5

RULES = {
    1: "one point beyond 3σ",
    2: "two of three points beyond 2σ on the same side",
    3: "four of five points beyond 1σ on the same side",
    4: "eight points in a row on the same side of the centre",
    5: "six points in a row steadily rising or falling",
}


@dataclass
class RuleHit:
    rule: int
    indices: list[int]  # positions on the chart of the points that make the pattern
    side: str  # "high" | "low" | "rising" | "falling"

    @property
    def description(self) -> str:
        return RULES[self.rule]


@dataclass
class Point:
    index: int
    label: str
    date: dt.date | None
    value: float
    rules: list[int] = field(default_factory=list)
    excluded_from_limits: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def out_of_control(self) -> bool:
        return bool(self.rules)


@dataclass
class Chart:
    group: str
    metric: str
    points: list[Point]
    centre: float | None = None
    sigma: float | None = None
    moving_ranges: list[float | None] = field(default_factory=list)
    mr_centre: float | None = None
    hits: list[RuleHit] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def limit(self, k: float) -> float | None:
        return None if self.centre is None else self.centre + k * self.sigma

    @property
    def ucl(self) -> float | None:
        return self.limit(3)

    @property
    def lcl(self) -> float | None:
        return self.limit(-3)

    @property
    def mr_ucl(self) -> float | None:
        return None if self.mr_centre is None else D4 * self.mr_centre

    @property
    def out_of_control(self) -> list[Point]:
        return [p for p in self.points if p.rules]


def _sigma(values: np.ndarray, method: str) -> tuple[float, float]:
    """(σ̂, MR̄) from the moving ranges of consecutive points."""
    mr = np.abs(np.diff(values))
    if mr.size == 0:
        return float("nan"), float("nan")
    if method == "average_mr":
        return float(mr.mean() / D2), float(mr.mean())
    if method == "median_mr":
        return float(np.median(mr) / MEDIAN_MR_FACTOR), float(mr.mean())
    raise ValueError(f"sigma must be 'median_mr' or 'average_mr', not {method!r}")


def _runs_same_side(z: np.ndarray, hits: list[RuleHit]) -> None:
    side = np.sign(z)
    start = 0
    for i in range(1, len(z) + 1):
        if i == len(z) or side[i] != side[start] or side[i] == 0:
            if side[start] != 0 and i - start >= 8:
                hits.append(RuleHit(4, list(range(start, i)), "high" if side[start] > 0 else "low"))
            start = i


def _k_of_m(z: np.ndarray, k: int, m: int, level: float, rule: int, hits: list[RuleHit]) -> None:
    for sign, side in ((1, "high"), (-1, "low")):
        beyond = sign * z > level
        flagged: set[int] = set()
        for end in range(m - 1, len(z)):
            window = range(end - m + 1, end + 1)
            inside = [i for i in window if beyond[i]]
            if len(inside) >= k:
                flagged.update(inside)
        if flagged:
            # Consecutive flagged stretches become one hit each.
            ordered = sorted(flagged)
            group = [ordered[0]]
            for i in ordered[1:]:
                if i - group[-1] <= m - 1:
                    group.append(i)
                else:
                    hits.append(RuleHit(rule, group, side))
                    group = [i]
            hits.append(RuleHit(rule, group, side))


def _trend(values: np.ndarray, hits: list[RuleHit], length: int = 6) -> None:
    steps = np.sign(np.diff(values))
    start = 0
    for i in range(1, len(steps) + 1):
        if i == len(steps) or steps[i] != steps[start] or steps[i] == 0:
            if steps[start] != 0 and i - start >= length - 1:
                hits.append(RuleHit(5, list(range(start, i + 1)), "rising" if steps[start] > 0 else "falling"))
            start = i


def rule_hits(values: np.ndarray, centre: float, sigma: float, rules=tuple(RULES)) -> list[RuleHit]:
    """Every rule's hits for ``values`` against a centre line and σ."""
    z = (np.asarray(values, float) - centre) / sigma
    hits: list[RuleHit] = []
    if 1 in rules:
        hits += [RuleHit(1, [int(i)], "high" if z[i] > 0 else "low") for i in np.nonzero(np.abs(z) > 3)[0]]
    if 2 in rules:
        _k_of_m(z, 2, 3, 2.0, 2, hits)
    if 3 in rules:
        _k_of_m(z, 4, 5, 1.0, 3, hits)
    if 4 in rules:
        _runs_same_side(z, hits)
    if 5 in rules:
        _trend(np.asarray(values, float), hits)
    return hits


def individuals_chart(values, *, labels=None, dates=None, group: str = "", metric: str = "",
                      sigma: str = "average_mr", rules=tuple(RULES), extras=None) -> Chart:
    """An I-MR chart of ``values`` in the order given (module docstring)."""
    values = np.asarray(values, float)
    n = values.size
    labels = list(labels) if labels is not None else [str(i + 1) for i in range(n)]
    dates = list(dates) if dates is not None else [None] * n
    extras = list(extras) if extras is not None else [{} for _ in range(n)]
    points = [Point(i, labels[i], dates[i], float(values[i]), extra=extras[i]) for i in range(n)]
    chart = Chart(group=group, metric=metric, points=points,
                  moving_ranges=[None] + [float(v) for v in np.abs(np.diff(values))])
    if n < MIN_POINTS:
        chart.warnings.append(f"{group or metric}: only {n} point(s); control limits need at least {MIN_POINTS}")
        return chart
    keep = np.ones(n, bool)
    if sigma == "average_mr":
        # Phase I: limits from the kept points; a point is kept when it lies within them, repeated
        # until nothing changes, so every point left out is beyond the limits it is judged by.
        for _ in range(PHASE_ONE_ITERATIONS):
            centre = float(values[keep].mean())
            s, _ = _sigma(values[keep], sigma)
            new_keep = np.abs(values - centre) <= 3 * s if s > 0 else keep
            if (new_keep == keep).all():
                break
            if new_keep.sum() < MIN_POINTS:
                new_keep = keep
                break
            keep = new_keep
        else:
            keep = np.ones(n, bool)
            chart.warnings.append(f"{group or metric}: the Phase I limits did not settle; computed from every point")
    centre = float(values[keep].mean())
    s, mr_bar = _sigma(values[keep], sigma)
    if not s > 0:
        chart.warnings.append(f"{group or metric}: the points do not vary (σ̂ = 0); no limits")
        return chart
    chart.centre, chart.sigma, chart.mr_centre = centre, s, mr_bar
    for i in np.nonzero(~keep)[0]:
        points[i].excluded_from_limits = True
    if (~keep).any():
        chart.warnings.append(f"{group or metric}: {int((~keep).sum())} point(s) beyond 3σ left out of the limits (Phase I)")
    chart.hits = rule_hits(values, centre, s, rules)
    for hit in chart.hits:
        for i in hit.indices:
            if hit.rule not in points[i].rules:
                points[i].rules.append(hit.rule)
    for p in points:
        p.rules.sort()
    return chart


def charts_by_group(units: pd.DataFrame, *, metric: str, group: str, date: str, label: str | None = None,
                    sigma: str = "average_mr", extra: list[str] = ()) -> list[Chart]:
    """One chart per value of ``group`` (a recipe version), points in ``date`` order (ties by label)."""
    frame = units[units[metric].notna()].copy()
    frame["_label"] = frame[label] if label else frame.index.astype(str)
    frame["_group"] = frame[group].fillna("(none)").astype(str)
    charts = []
    for name, rows in frame.groupby("_group", sort=True):
        rows = rows.sort_values([date, "_label"], na_position="last", kind="stable")
        dates = [d.date() if isinstance(d, pd.Timestamp | dt.datetime) else d for d in rows[date]]
        extras = rows[list(extra)].to_dict("records") if extra else None
        charts.append(individuals_chart(rows[metric].to_numpy(float), labels=rows["_label"].tolist(), dates=dates,
                                        group=str(name), metric=metric, sigma=sigma, extras=extras))
    return charts


@dataclass
class LotSummary:
    lot: str
    n: int
    median: float
    shift_sigma: float | None  # (lot median − the centre of the other lots' points) / σ̂
    p_value: float | None  # Holm-adjusted, this lot against all the others
    n_out_of_control: int
    flagged: bool
    reason: str = ""
    labels: list[str] = field(default_factory=list)


def by_lot(charts: list[Chart], lots: dict[str, str]) -> list[LotSummary]:
    """Lot summaries from the charted points (``lots``: point label → lot)."""
    from scipy import stats

    points = [(p, c) for c in charts for p in c.points if p.label in lots]
    sigmas = [c.sigma for c in charts if c.sigma]
    pooled = float(np.sqrt(np.mean(np.square(sigmas)))) if sigmas else None
    by: dict[str, list[tuple[Point, Chart]]] = {}
    for p, c in points:
        by.setdefault(str(lots[p.label]), []).append((p, c))
    raw_p: dict[str, float] = {}
    for lot, members in by.items():
        mine = np.array([p.value for p, _ in members])
        rest = np.array([p.value for p, _ in points if str(lots[p.label]) != lot])
        if mine.size >= 2 and rest.size >= 2:
            raw_p[lot] = float(stats.mannwhitneyu(mine, rest, alternative="two-sided").pvalue)
        elif mine.size >= 1 and rest.size >= 2 and len(by) > 1:
            raw_p[lot] = float(stats.mannwhitneyu(mine, rest, alternative="two-sided").pvalue)
    # Holm over the lots compared.
    adjusted: dict[str, float] = {}
    order = sorted(raw_p, key=raw_p.get)
    running = 0.0
    for k, lot in enumerate(order):
        running = max(running, min(1.0, raw_p[lot] * (len(order) - k)))
        adjusted[lot] = running
    out = []
    for lot, members in sorted(by.items()):
        values = np.array([p.value for p, _ in members])
        others = np.array([p.value for p, _ in points if str(lots[p.label]) != lot])
        shift = None
        if pooled and others.size:
            # From the median of all points, not of the others: with two lots the comparison with
            # "the others" is symmetric, and only the lot away from the process is suspect.
            shift = float((np.median(values) - np.median([p.value for p, _ in points])) / pooled)
        n_ooc = sum(1 for p, _ in members if p.rules)
        p_adj = adjusted.get(lot)
        reasons = []
        if p_adj is not None and p_adj < 0.05 and shift is not None and abs(shift) >= 1:
            reasons.append(f"median {shift:+.1f} σ from the process median, unlike the other lots "
                           f"(Mann–Whitney, Holm-adjusted p = {p_adj:.2g})")
        if values.size >= 2 and n_ooc > values.size / 2:
            reasons.append(f"{n_ooc} of {values.size} points broke a rule")
        out.append(LotSummary(lot=lot, n=int(values.size), median=float(np.median(values)), shift_sigma=shift,
                              p_value=p_adj, n_out_of_control=n_ooc, flagged=bool(reasons), reason="; ".join(reasons),
                              labels=[p.label for p, _ in members]))
    return out
