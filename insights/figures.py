"""The charts of the insights pages, from the selectors' data (SVG strings from insights.charts)."""

from __future__ import annotations

import pandas as pd
from django.utils.safestring import SafeString, mark_safe

from . import charts
from .science.drivers import Driver, DriverTable
from .selectors import UNIT, ControlView, InsightsData

MAX_PIXEL_POINTS = 2000  # a plot with more pixels than this shows the unit medians only


def _groups(data: InsightsData, units: pd.DataFrame) -> tuple[dict[str, str], dict[str, str]]:
    """unit → recipe version (of the family's recipe) and version → colour."""
    column = data.recipe_column("version")
    if column is None or column not in data.rows.columns:
        return {}, {}
    of_unit = data.rows.groupby(UNIT)[column].first().to_dict()
    versions = sorted({v for v in of_unit.values() if isinstance(v, str)})
    return of_unit, {v: charts.PALETTE[k % len(charts.PALETTE)] for k, v in enumerate(versions)}


def driver_plot(data: InsightsData, table: DriverTable, row: Driver) -> SafeString:
    units = table.units.units
    pixels = table.units.pixel_rows
    metric, param = row.metric, row.parameter
    unit_label = f"{metric} ({data.metric_units.get(metric, '')})".replace(" ()", "")
    both = units[metric].notna() & units[param].notna()
    n_rows = table.units.n_rows[metric].to_dict()  # unit → its rows (a Series lookup per unit is slow)
    show_pixels = pixels is not None and len(pixels) <= MAX_PIXEL_POINTS
    pix = pixels[pixels[metric].notna() & pixels[param].notna()] if show_pixels else pixels.iloc[0:0]
    if row.kind == "numeric":
        of_unit, colors = _groups(data, units)
        # Whole columns read once (a scalar lookup per unit and a dict per pixel row cost more than
        # drawing them): the same values in the same order.
        unit_points = [{"label": u, "x": float(x), "y": float(y), "group": of_unit.get(u, ""), "n": int(n_rows.get(u, 1))}
                       for u, x, y in zip(units.index[both], units.loc[both, param].tolist(),
                                          units.loc[both, metric].tolist(), strict=True)]
        pixel_points = [{"label": p or u, "unit": u, "x": float(x), "y": float(y)}
                        for u, p, x, y in zip(*_columns(pix, UNIT, "pixel", param, metric), strict=True)]
        svg = charts.scatter(unit_points, pixel_points, xlabel=data.label(param), ylabel=unit_label,
                             slope=row.slope, intercept=row.intercept, groups=colors)
    else:
        levels = []
        as_text = units[param].astype(str)
        pixel_level = pix[param].astype(str).to_numpy()
        pixel_rows = list(zip(*_columns(pix, UNIT, "pixel", metric), strict=True))
        for level in sorted(as_text[both].unique()):
            in_level = both & (as_text == level)
            # One column read per level, not a scalar lookup per unit (the same values, in order).
            us = [{"label": u, "y": float(y)} for u, y in zip(units.index[in_level], units.loc[in_level, metric], strict=True)]
            ps = [{"label": p or u, "y": float(y)}
                  for (u, p, y), here in zip(pixel_rows, pixel_level == level, strict=True) if here]
            levels.append((level, us, ps))
        svg = charts.levels(levels, xlabel=data.label(param), ylabel=unit_label,
                            highlight=row.level if row.significant else None)
    return mark_safe(svg)  # noqa: S308 — built by insights.charts, every text escaped there


def _columns(frame: pd.DataFrame, *names: str) -> list[list]:
    """Each named column as a list of Python values (what a row dict of the frame would hold)."""
    return [frame[name].tolist() for name in names]


def top_driver_plots(data: InsightsData, table: DriverTable, metrics: list[str], *,
                     top: int) -> dict[tuple[str, str], SafeString]:
    """(metric, parameter) → the plot of each metric's ``top`` ranked drivers. Not cached here: the
    page caches the tables they are drawn into (``pages.sections_html``)."""
    return {(row.metric, row.parameter): driver_plot(data, table, row)
            for metric in metrics for row in table.for_metric(metric) if row.rank and row.rank <= top}


def control_plots(view: ControlView) -> list[dict]:
    label = f"{view.metric} ({view.unit})" if view.unit else view.metric
    return [{"chart": c, "svg": mark_safe(charts.control_chart(c, ylabel=label)),  # noqa: S308
             "mr_svg": mark_safe(charts.moving_range_chart(c))} for c in view.charts]  # noqa: S308


def lot_plot(view: ControlView, lot_column: str, data: InsightsData) -> SafeString:
    summaries = view.lots.get(lot_column, [])
    points = {p.label: p.value for c in view.charts for p in c.points}
    groups = [(s.lot, [{"label": label, "y": points[label]} for label in s.labels if label in points], [])
              for s in summaries]
    flagged = next((s.lot for s in summaries if s.flagged), None)
    label = f"{view.metric} ({view.unit})" if view.unit else view.metric
    return mark_safe(charts.levels(groups, xlabel=data.label(lot_column), ylabel=label, highlight=flagged))  # noqa: S308
