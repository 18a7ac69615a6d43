"""From a table of measured rows (often one per pixel) to one row per unit (device), shared by
the drivers and the control charts.

Pixels of one device are not independent samples (same films, same day): a statistic over
pixels would count one device four times and make every confidence interval too narrow. So the
unit of every statistic here is the unit (device), its value the median of its rows, and the
number behind a result is the number of units (the pixel count is reported beside it).

Lifetimes are only comparable at one stress: T50 scales as L0⁻ⁿ (n ≈ 1.5–2 for these LEDs,
PROCESS.md §7), so a T50 taken at 4000 cd/m² is not a bad T50 at 1000 cd/m². When the table has
the lifetime runs' initial luminance, rows whose L0 is more than ±25 % from the median L0 of that
metric's rows are left out of that metric, with a warning naming them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LIFETIME_METRICS = ("t50", "t70", "t90", "t95")
L0_COLUMN = "initial_luminance"
L0_TOLERANCE = 0.25


@dataclass
class UnitTable:
    """``units``: one row per unit, metric medians and parameter values; ``n_rows[metric]``: the
    rows (pixels) behind each unit's median; ``warnings``: what was left out and why."""

    units: pd.DataFrame
    n_rows: dict[str, pd.Series] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    pixel_rows: pd.DataFrame | None = None  # the input rows that were used, for plots


def comparable_lifetimes(frame: pd.DataFrame, metrics: list[str], unit: str) -> tuple[pd.DataFrame, list[str]]:
    """Blank lifetime values measured at an L0 far from the typical one (see module docstring)."""
    warnings: list[str] = []
    if L0_COLUMN not in frame.columns:
        return frame, warnings
    out = frame
    for metric in metrics:
        if metric not in LIFETIME_METRICS or metric not in frame.columns:
            continue
        rows = frame[metric].notna() & frame[L0_COLUMN].notna()
        if rows.sum() < 2:
            continue
        l0 = frame.loc[rows, L0_COLUMN].astype(float)
        typical = float(l0.median())
        off = rows & ((frame[L0_COLUMN] - typical).abs() > L0_TOLERANCE * typical)
        if off.any():
            if out is frame:
                out = frame.copy()
            out.loc[off, metric] = np.nan
            where = ", ".join(f"{u} ({v:.0f} cd/m²)" for u, v in
                              frame.loc[off, [unit, L0_COLUMN]].drop_duplicates(unit).itertuples(index=False))
            warnings.append(f"{metric}: {int(off.sum())} lifetime run(s) at an initial luminance more than "
                            f"{L0_TOLERANCE:.0%} from the typical {typical:.0f} cd/m² left out (T50 scales as L0⁻ⁿ, so "
                            f"they are not comparable): {where}")
    return out, warnings


def unit_table(frame: pd.DataFrame, *, metrics: list[str], parameters: list[str], unit: str = "device",
               extra: list[str] = ()) -> UnitTable:
    """Median of each metric per unit; each parameter's (and extra column's) value per unit.

    A parameter that differs between the rows of one unit (it should not: a device has one film
    run) keeps the most frequent value, with a warning."""
    missing = [c for c in [unit, *metrics, *parameters] if c not in frame.columns]
    if missing:
        raise ValueError(f"the table has no column(s) {', '.join(map(repr, missing))}")
    frame = frame[frame[unit].notna()]
    frame, warnings = comparable_lifetimes(frame, metrics, unit)
    numeric = frame[metrics].apply(pd.to_numeric, errors="coerce")
    grouped = numeric.groupby(frame[unit], sort=False)
    units = grouped.median()
    n_rows = {m: grouped[m].count() for m in metrics}
    columns = [c for c in dict.fromkeys([*parameters, *extra]) if c in frame.columns]
    if columns:
        firsts = frame.groupby(unit, sort=False)[columns].first()
        nunique = frame.groupby(unit, sort=False)[columns].nunique()
        for column in columns:
            varying = nunique.index[nunique[column] > 1]
            if len(varying):
                modes = frame[frame[unit].isin(varying)].groupby(unit)[column].agg(
                    lambda s: s.mode(dropna=True).iloc[0] if s.notna().any() else None)
                firsts.loc[varying, column] = modes
                warnings.append(f"{column}: differs between the rows of {len(varying)} unit(s) "
                                f"({', '.join(map(str, varying[:5]))}{'…' if len(varying) > 5 else ''}); "
                                "the most frequent value is used")
        units = units.join(firsts)
    units.index.name = unit
    return UnitTable(units=units, n_rows=n_rows, warnings=warnings, pixel_rows=frame)


def is_numeric(series: pd.Series, *, min_levels: int = 3) -> bool:
    """A parameter is treated as a number when every value is one and it takes ≥ min_levels
    values; two planned levels (7.5 or 6 min) read better as categories."""
    values = series.dropna()
    if values.empty or values.map(lambda v: isinstance(v, bool | np.bool_)).any():
        return False
    converted = pd.to_numeric(values, errors="coerce")
    return bool(converted.notna().all()) and converted.nunique() >= min_levels
