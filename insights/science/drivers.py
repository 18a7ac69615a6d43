"""What moved the metric: every metric against every parameter, ranked by effect size.

Input: a DataFrame with one row per measured pixel (or sample), a unit column (the device) and
the metric and parameter columns (parameters: the *actual* values along the sample's lineage, the
recipe versions and the chemical lots). Statistics are over units, never pixels
(``prepare.unit_table``): n is the number of devices.

For a numeric parameter (≥ 3 distinct values):

- **effect** = Spearman's rank correlation ρ (scipy.stats.spearmanr), unit-free so parameters in
  µL, °C and mg rank against each other, robust to outliers and to any monotonic response. 95 %
  CI from Fisher's z with the Bonett–Wright standard error √((1 + ρ²/2)/(n − 3))
  (Bonett & Wright, Psychometrika 65, 23, 2000).
- **slope** in metric units per parameter unit from a robust linear fit, Huber's T norm
  (statsmodels RLM), with its 95 % CI: what the chemist reads ("+10 µL of QD ink → +0.5 % EQE").

For a categorical parameter (recipe version, chemical lot, a planned value with two levels):
each level against the rest by Mann–Whitney U; **effect** = the rank-biserial correlation
r = 2U/(n₁n₂) − 1 of the level that differs most (the same −1…1 scale as ρ; positive = that level
is higher), CI from the Hanley–McNeil standard error of U/(n₁n₂), Bonferroni-widened for the
number of levels compared; the level's median shift (metric units) is the readable size.

Over the whole table the p-values get Benjamini–Hochberg q-values (many parameters are tested at
once: at 95 % one null parameter in twenty looks "significant" by chance).

Warnings (on the row and the table): fewer than ``min_units`` units (no effect reported) or fewer
than 10 (a wide CI: a hint, not a finding); a level with fewer than 3 units (it is not compared,
and a category without two levels of 3 gets no effect); parameters that move
together (|ρ|, Cramér's V or the rank correlation ratio ≥ ``confound_threshold`` over the units):
their effects cannot be told apart, whichever ranks higher.
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .prepare import UnitTable, is_numeric, unit_table

Z95 = stats.norm.ppf(0.975)
MIN_UNITS = 6
FEW_UNITS = 10
MIN_LEVEL_UNITS = 3
CONFOUND_THRESHOLD = 0.8


@dataclass
class Driver:
    metric: str
    parameter: str
    kind: str  # "numeric" | "categorical"
    n_units: int
    n_rows: int
    n_runs: int | None = None  # when units share the parameter's run: the runs the statistic is over
    effect: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    slope: float | None = None  # numeric: metric units per parameter unit (robust fit)
    slope_ci_low: float | None = None
    slope_ci_high: float | None = None
    intercept: float | None = None
    level: str | None = None  # categorical: the level that differs most
    level_shift: float | None = None  # its median minus the median of the others (metric units)
    levels: dict[str, dict[str, float]] = field(default_factory=dict)  # level → {"n", "median"}
    warnings: list[str] = field(default_factory=list)
    rank: int | None = None

    @property
    def n(self) -> int:
        """The sample size of the statistic: runs when units share them, else units."""
        return self.n_runs if self.n_runs is not None else self.n_units

    @property
    def significant(self) -> bool:
        return self.ci_low is not None and (self.ci_low > 0 or self.ci_high < 0)

    @property
    def sign(self) -> int:
        return 0 if not self.effect else int(math.copysign(1, self.effect))


@dataclass
class Confounding:
    first: str
    second: str
    strength: float
    measure: str  # "Spearman ρ" | "Cramér's V" | "rank correlation ratio"


@dataclass
class DriverTable:
    rows: list[Driver]
    confounded: list[Confounding]
    warnings: list[str]
    skipped: list[tuple[str, str]]  # (column, why)
    units: UnitTable

    def for_metric(self, metric: str) -> list[Driver]:
        return [r for r in self.rows if r.metric == metric]

    def to_frame(self) -> pd.DataFrame:
        columns = ["rank", "metric", "parameter", "kind", "effect", "ci_low", "ci_high", "p_value", "q_value",
                   "slope", "slope_ci_low", "slope_ci_high", "level", "level_shift", "n_runs", "n_units", "n_rows", "warnings"]
        records = []
        for r in self.rows:
            d = asdict(r)
            d["warnings"] = "; ".join(r.warnings)
            records.append({c: d[c] for c in columns})
        return pd.DataFrame.from_records(records, columns=columns)


def fisher_ci(rho: float, n: int, z: float = Z95) -> tuple[float, float]:
    """CI of Spearman's ρ: Fisher z with the Bonett–Wright standard error."""
    if n <= 3:
        return -1.0, 1.0
    r = float(np.clip(rho, -0.999999, 0.999999))
    se = math.sqrt((1 + r * r / 2) / (n - 3))
    centre = math.atanh(r)
    return math.tanh(centre - z * se), math.tanh(centre + z * se)


def rank_biserial(x: np.ndarray, y: np.ndarray, z: float = Z95) -> tuple[float, float, float, float]:
    """(r, ci_low, ci_high, p) for sample x against y: r = 2·U_x/(n_x·n_y) − 1."""
    u, p = stats.mannwhitneyu(x, y, alternative="two-sided")
    n1, n2 = len(x), len(y)
    a = u / (n1 * n2)
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt(max(a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n2 - 1) * (q2 - a * a), 0.0) / (n1 * n2))
    lo, hi = max(a - z * se, 0.0), min(a + z * se, 1.0)
    return 2 * a - 1, 2 * lo - 1, 2 * hi - 1, float(p)


def benjamini_hochberg(p: list[float | None]) -> list[float | None]:
    idx = [i for i, v in enumerate(p) if v is not None and not math.isnan(v)]
    out: list[float | None] = [None] * len(p)
    if not idx:
        return out
    values = np.array([p[i] for i in idx], float)
    order = np.argsort(values)
    ranked = values[order] * len(values) / (np.arange(len(values)) + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    for k, j in enumerate(order):
        out[idx[j]] = float(q[k])
    return out


def _robust_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float] | None:
    """(slope, ci_low, ci_high, intercept) of a Huber-T robust line, or None if it cannot be fitted."""
    # The two modules only: statsmodels.api imports the whole library (seconds).
    from statsmodels.robust.norms import HuberT
    from statsmodels.robust.robust_linear_model import RLM

    if np.ptp(x) == 0:
        return None
    design = np.column_stack([np.ones_like(x), x])
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # convergence chatter on tiny samples; checked below
        try:
            fit = RLM(y, design, M=HuberT()).fit()
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
            return None
    slope, se = float(fit.params[1]), float(fit.bse[1])
    if not (math.isfinite(slope) and math.isfinite(se)):
        return None
    return slope, slope - Z95 * se, slope + Z95 * se, float(fit.params[0])


def _numeric(metric: str, parameter: str, x: np.ndarray, y: np.ndarray, n_rows: int) -> Driver:
    row = Driver(metric, parameter, "numeric", n_units=len(x), n_rows=n_rows)
    xv, yv = np.asarray(x, float), np.asarray(y, float)
    if np.ptp(xv) == 0 or np.ptp(yv) == 0:
        row.warnings.append("no variation among these units")
        return row
    rho, p = stats.spearmanr(xv, yv)
    row.effect, row.p_value = float(rho), float(p)
    row.ci_low, row.ci_high = fisher_ci(row.effect, len(xv))
    fit = _robust_fit(xv, yv)
    if fit is not None:
        row.slope, row.slope_ci_low, row.slope_ci_high, row.intercept = fit
    return row


def _categorical(metric: str, parameter: str, labels: np.ndarray, y: np.ndarray, n_rows: int) -> Driver:
    """``labels``: each unit's level as text (``Series.astype(str)``)."""
    row = Driver(metric, parameter, "categorical", n_units=len(labels), n_rows=n_rows)
    values = np.asarray(y, float)
    groups = {level: values[labels == level] for level in sorted(set(labels))}
    row.levels = {level: {"n": int(v.size), "median": float(np.median(v))} for level, v in groups.items()}
    usable = [level for level, v in groups.items() if v.size >= MIN_LEVEL_UNITS and len(y) - v.size >= MIN_LEVEL_UNITS]
    small = [level for level, v in groups.items() if v.size < MIN_LEVEL_UNITS]
    if small:
        row.warnings.append(f"few units in {', '.join(small)} (< {MIN_LEVEL_UNITS})")
    if len(groups) < 2 or not usable:
        row.warnings.append(f"no level with ≥ {MIN_LEVEL_UNITS} units against ≥ {MIN_LEVEL_UNITS} others: no effect given")
        return row
    compared = usable if len(groups) > 2 else usable[:1]  # two levels: one comparison says it all
    z = stats.norm.ppf(1 - 0.025 / len(compared))  # Bonferroni over the levels compared
    best = None
    for level in compared:
        mine, rest = groups[level], values[labels != level]
        r, lo, hi, p = rank_biserial(mine, rest, z)
        if best is None or abs(r) > abs(best[1]):
            best = (level, r, lo, hi, min(1.0, p * len(compared)), float(np.median(mine) - np.median(rest)))
    row.level, row.effect, row.ci_low, row.ci_high, row.p_value, row.level_shift = best
    return row


def _ranks(values: np.ndarray) -> tuple[np.ndarray, float]:
    """The values' average ranks and the Kruskal–Wallis tie correction 1 − Σ(t³ − t)/(n³ − n)."""
    from scipy.stats import rankdata

    n = values.size
    _, ties = np.unique(values, return_counts=True)
    return rankdata(values), 1.0 - float((ties ** 3 - ties).sum()) / (n ** 3 - n)


def _kruskal_eta(codes: np.ndarray, ranked: tuple[np.ndarray, float]) -> float:
    """√(H/(n − 1)): the rank correlation ratio of a number with a category (Kruskal–Wallis H,
    tie-corrected), in 0…1 like |ρ|. ``codes``: each unit's level, non-negative (unused numbers
    allowed); ``ranked``: ``_ranks`` of the units' numbers."""
    ranks, correction = ranked
    n = ranks.size
    counts = np.bincount(codes)
    sums = np.bincount(codes, weights=ranks)
    used = counts > 0
    h = 12.0 / (n * (n + 1)) * float((sums[used] ** 2 / counts[used]).sum()) - 3.0 * (n + 1)
    h = h / correction if correction > 0 else 0.0
    return math.sqrt(max(0.0, min(1.0, h / (n - 1))))


def _cramers_v(ca: np.ndarray, cb: np.ndarray) -> float:
    table = np.zeros((ca.max() + 1, cb.max() + 1))
    np.add.at(table, (ca, cb), 1)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    chi2 = float(((table - expected) ** 2 / expected).sum())
    k = min(table.shape) - 1
    return math.sqrt(chi2 / (table.sum() * k)) if k else 0.0


def confounding(units: pd.DataFrame, parameters: list[str], kinds: dict[str, bool],
                threshold: float = CONFOUND_THRESHOLD) -> list[Confounding]:
    """Pairs of parameters that move together over the units (pairwise-complete)."""
    out: list[Confounding] = []
    numeric = [p for p in parameters if kinds[p]]
    if len(numeric) > 1:
        # Pairwise-complete Spearman over all numeric parameters in one go.
        matrix = (units[numeric].apply(pd.to_numeric, errors="coerce").corr(method="spearman", min_periods=MIN_UNITS)
                  .abs().to_numpy())
        for i, a in enumerate(numeric):
            for j, b in enumerate(numeric[i + 1:], start=i + 1):
                value = matrix[i, j]
                if pd.notna(value) and value >= threshold:
                    out.append(Confounding(a, b, float(value), "Spearman ρ"))
    # A category with fewer than two levels of MIN_LEVEL_UNITS units says nothing about moving together
    # (one odd device differing in two settings would make them "confounded").
    def spread(p: str) -> bool:
        counts = units[p].dropna().astype(str).value_counts()
        return kinds[p] or (counts >= MIN_LEVEL_UNITS).sum() >= 2

    parameters = [p for p in parameters if spread(p)]
    arrays: dict[str, np.ndarray] = {}
    for p in parameters:
        if kinds[p]:
            arrays[p] = pd.to_numeric(units[p], errors="coerce").to_numpy(float)
        else:
            arrays[p] = pd.factorize(units[p].astype("string"), use_na_sentinel=True)[0]
    present = {p: (~np.isnan(v) if kinds[p] else v >= 0) for p, v in arrays.items()}
    # A numeric parameter's ranks over the same units serve every category it is paired with.
    ranked: dict[tuple[str, bytes], tuple[np.ndarray, float]] = {}
    for i, a in enumerate(parameters):
        for b in parameters[i + 1:]:
            if kinds[a] and kinds[b]:
                continue
            both = present[a] & present[b]
            if both.sum() < MIN_UNITS:
                continue
            va, vb = arrays[a][both], arrays[b][both]
            if va.min() == va.max() or vb.min() == vb.max():  # fewer than two distinct values
                continue
            if not kinds[a] and not kinds[b]:
                # Renumbered to the levels present: the table is levels × levels of these units only.
                value, measure = (_cramers_v(np.unique(va, return_inverse=True)[1], np.unique(vb, return_inverse=True)[1]),
                                  "Cramér's V")
            else:
                # The level codes as factorized: a level absent from these units has no rank sum,
                # and the measure skips it.
                (num_p, num), cat = ((a, va), vb) if kinds[a] else ((b, vb), va)
                key = (num_p, both.tobytes())
                if key not in ranked:
                    ranked[key] = _ranks(num)
                value, measure = _kruskal_eta(cat, ranked[key]), "rank correlation ratio"
            if value >= threshold:
                out.append(Confounding(a, b, value, measure))
    return out


def _per_run(x: np.ndarray, y: np.ndarray, runs: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Units that share the parameter's run (devices from one precursor batch) are one observation
    of that parameter: the run's value against the median of its units. None when no run is shared.

    In the runs' order of first appearance (as ``groupby(sort=False)``): each run's first unit's
    value, and the median of its units' metric — the middle value, or the mean of the two middle
    ones, as pandas' group median takes them — by one sort instead of two groupbys."""
    codes, names = pd.factorize(runs, sort=False)
    if (codes < 0).any() or len(names) == len(codes):
        return None
    first = np.unique(codes, return_index=True)[1]  # code k is the k-th run to appear
    yv = np.asarray(y, float)
    ordered = yv[np.lexsort((yv, codes))]  # by run, then by value
    counts = np.bincount(codes)
    middle = np.cumsum(counts) - counts + counts // 2
    below = ordered[np.maximum(middle - 1, 0)]
    median = np.where(counts % 2 == 1, ordered[middle], (below + ordered[middle]) / 2)
    return x[first], median


def analyse(frame: pd.DataFrame, *, metrics: list[str], parameters: list[str], unit: str = "device",
            clusters: dict[str, str] | None = None, min_units: int = MIN_UNITS,
            confound_threshold: float = CONFOUND_THRESHOLD) -> DriverTable:
    """Rank every (metric, parameter) pair of ``frame`` by the size of its effect (module docstring).

    ``clusters`` maps a parameter to the column naming the run it came from (the precursor batch
    a device was made with): units sharing a run count once for that parameter (their median),
    so n is the number of runs and the interval is not narrowed by pseudo-replication."""
    clusters = {p: c for p, c in (clusters or {}).items() if c in frame.columns}
    table = unit_table(frame, metrics=metrics, parameters=parameters, unit=unit, extra=sorted(set(clusters.values())))
    units = table.units
    warnings = list(table.warnings)
    skipped: list[tuple[str, str]] = []
    kinds: dict[str, bool] = {}
    usable: list[str] = []
    for p in parameters:
        values = units[p].dropna()
        if values.nunique() < 2:
            skipped.append((p, "the same value for every unit" if len(values) else "no values"))
            continue
        kinds[p] = is_numeric(values)
        usable.append(p)
    confounded = confounding(units, usable, kinds, confound_threshold)
    partners: dict[str, list[str]] = {}
    for c in confounded:
        partners.setdefault(c.first, []).append(f"{c.second} ({c.measure} {c.strength:.2f})")
        partners.setdefault(c.second, []).append(f"{c.first} ({c.measure} {c.strength:.2f})")
    rows: list[Driver] = []
    present = {p: units[p].notna().to_numpy() for p in usable}
    # Each column once as an array, masked per pair below (a categorical one as its levels' text).
    arrays = {p: units[p].to_numpy(float) if kinds[p] else units[p].astype(str).to_numpy() for p in usable}
    run_of = {c: units[c].to_numpy() for c in {clusters[p] for p in usable if p in clusters}}
    for metric in metrics:
        y_all = units[metric].to_numpy(float)
        y_present = ~np.isnan(y_all)
        unit_rows = table.n_rows[metric].to_numpy()  # per unit, in the units' order
        n_metric = int(y_present.sum())
        if n_metric < FEW_UNITS:
            warnings.append(f"{metric}: only {n_metric} unit(s) measured"
                            + (f"; fewer than {min_units}, so no effects are given" if n_metric < min_units
                               else "; the confidence intervals are wide (a hint, not a finding)"))
        metric_rows = []
        for p in usable:
            both = y_present & present[p]
            x, y = arrays[p][both], y_all[both]
            n_units, n_rows = len(x), int(unit_rows[both].sum())
            shared = _per_run(x, y, run_of[clusters[p]][both]) if p in clusters and len(x) else None
            if shared is not None:
                x, y = shared
            n = len(x)
            what = "run(s)" if shared is not None else "unit(s)"
            if n < min_units:
                row = Driver(metric, p, "numeric" if kinds[p] else "categorical", n_units=n_units, n_rows=n_rows,
                             warnings=[f"only {n} {what} with both values (< {min_units}): no effect given"])
            elif kinds[p]:
                row = _numeric(metric, p, x, y, n_rows)
            else:
                row = _categorical(metric, p, x, y, n_rows)
            row.n_units = n_units
            if shared is not None:
                row.n_runs = n
                row.warnings.insert(0, f"{n_units} units from {n} runs: n = {n}")
            if row.effect is not None and n < FEW_UNITS:
                row.warnings.append(f"only {n} {what}: a wide interval")
            if p in partners:
                row.warnings.append("moves together with " + "; ".join(partners[p]) + ": their effects cannot be told apart")
            metric_rows.append(row)
        metric_rows.sort(key=lambda r: (r.effect is None, -abs(r.effect or 0.0)))
        for k, row in enumerate(metric_rows, start=1):
            row.rank = k if row.effect is not None else None
        rows += metric_rows
    for row, q in zip(rows, benjamini_hochberg([r.p_value for r in rows]), strict=True):
        row.q_value = q
    for c in confounded:
        warnings.append(f"{c.first} and {c.second} move together ({c.measure} {c.strength:.2f} over the units)")
    return DriverTable(rows=rows, confounded=confounded, warnings=warnings, skipped=skipped, units=table)
