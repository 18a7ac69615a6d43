"""Small server-rendered SVG charts for the insights pages: scatter with a fitted line, points per
level, control charts. Plain SVG strings (a few kB each, milliseconds to make), styled by
static/css/insights.css, with a <title> on every point for the hover read-out; no plotting
library in the browser and no matplotlib text layout per page view.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

import numpy as np

W, H = 440, 260
M = {"l": 58, "r": 14, "t": 12, "b": 44}
PALETTE = ["#3b4cca", "#d97706", "#059669", "#be185d", "#0891b2", "#7c3aed", "#65a30d", "#b45309"]
BAD = "#b42318"


def fmt(v: float) -> str:
    a = abs(v)
    if a != 0 and (a >= 1e5 or a < 1e-3):
        return f"{v:.1e}".replace("e+0", "e").replace("e-0", "e-")
    return f"{float(f'{v:.4g}'):g}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    span = hi - lo or abs(hi) or 1.0
    mag = 10 ** math.floor(math.log10(span / n))
    step = next((m * mag for m in (1, 2, 2.5, 5, 10) if span / (m * mag) <= n), 10 * mag)
    start = math.ceil(lo / step) * step
    return [0.0 if abs(t) < step * 1e-9 else t for t in np.arange(start, hi + step * 1e-9, step)]


@dataclass
class Scale:
    lo: float
    hi: float
    a: float  # pixel of lo
    b: float  # pixel of hi

    @classmethod
    def fit(cls, values: Iterable[float], a: float, b: float, pad: float = 0.06) -> Scale:
        v = [x for x in values if x is not None and math.isfinite(x)]
        lo, hi = (min(v), max(v)) if v else (0.0, 1.0)
        if lo == hi:
            lo, hi = lo - (abs(lo) * 0.1 or 1), hi + (abs(hi) * 0.1 or 1)
        span = hi - lo
        return cls(lo - pad * span, hi + pad * span, a, b)

    def __call__(self, x: float) -> float:
        return self.a + (x - self.lo) / (self.hi - self.lo) * (self.b - self.a)


def _frame(x: Scale | None, y: Scale, xlabel: str, ylabel: str, *, categories: list[str] | None = None,
           width: int = W, height: int = H) -> list[str]:
    out = [f'<svg class="ichart" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="{escape(ylabel)} vs {escape(xlabel)}" xmlns="http://www.w3.org/2000/svg">']
    left, right, top, bottom = M["l"], width - M["r"], M["t"], height - M["b"]
    out.append(f'<rect class="plot-bg" x="{left}" y="{top}" width="{right - left}" height="{bottom - top}"/>')
    for t in nice_ticks(y.lo, y.hi):
        py = y(t)
        out.append(f'<line class="grid" x1="{left}" x2="{right}" y1="{py:.1f}" y2="{py:.1f}"/>'
                   f'<text class="tick" x="{left - 6}" y="{py + 4:.1f}" text-anchor="end">{fmt(t)}</text>')
    if x is not None:
        for t in nice_ticks(x.lo, x.hi):
            px = x(t)
            out.append(f'<line class="grid" y1="{top}" y2="{bottom}" x1="{px:.1f}" x2="{px:.1f}"/>'
                       f'<text class="tick" x="{px:.1f}" y="{bottom + 16}" text-anchor="middle">{fmt(t)}</text>')
    if categories:
        step = (right - left) / len(categories)
        for k, name in enumerate(categories):
            out.append(f'<text class="tick" x="{left + step * (k + 0.5):.1f}" y="{bottom + 16}" '
                       f'text-anchor="middle">{escape(name[:18])}</text>')
    out.append(f'<text class="axis-label" x="{(left + right) / 2:.1f}" y="{height - 6}" text-anchor="middle">'
               f'{escape(xlabel[:90])}</text>')
    out.append(f'<text class="axis-label" transform="translate(14 {(top + bottom) / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">{escape(ylabel[:60])}</text>')
    return out


def _dot(cx: float, cy: float, r: float, cls: str, title: str, color: str | None = None) -> str:
    fill = f' style="fill:{color}"' if color else ""
    return f'<circle class="{cls}" cx="{cx:.1f}" cy="{cy:.1f}" r="{r}"{fill}><title>{escape(title)}</title></circle>'


def scatter(units: list[dict], pixels: list[dict], *, xlabel: str, ylabel: str, slope: float | None = None,
            intercept: float | None = None, groups: dict[str, str] | None = None) -> str:
    """Units (big dots, coloured by ``group``) over their pixels (small grey dots, joined to their
    unit by a thin line: the spread within a device), and the robust fit when given."""
    xs = [u["x"] for u in units] + [p["x"] for p in pixels]
    ys = [u["y"] for u in units] + [p["y"] for p in pixels]
    x = Scale.fit(xs, M["l"], W - M["r"])
    y = Scale.fit(ys, H - M["b"], M["t"])
    out = _frame(x, y, xlabel, ylabel)
    # Each unit's position once, not once per pixel of it.
    at_unit = {u["label"]: f'x1="{x(u["x"]):.1f}" y1="{y(u["y"]):.1f}"' for u in units}
    for p in pixels:
        px, py = x(p["x"]), y(p["y"])
        start = at_unit.get(p["unit"])
        if start is not None:
            out.append(f'<line class="within" {start} x2="{px:.1f}" y2="{py:.1f}"/>')
        out.append(_dot(px, py, 2.2, "pixel", f'{p["label"]}: {fmt(p["y"])}'))
    if slope is not None and intercept is not None:
        x0, x1 = x.lo, x.hi
        out.append(f'<line class="fit" x1="{x(x0):.1f}" y1="{y(intercept + slope * x0):.1f}" '
                   f'x2="{x(x1):.1f}" y2="{y(intercept + slope * x1):.1f}"/>')
    colors = groups or {}
    for u in units:
        out.append(_dot(x(u["x"]), y(u["y"]), 4.2, "unit", f'{u["label"]} ({u.get("group", "")}): '
                        f'x = {fmt(u["x"])}, y = {fmt(u["y"])} (median of {u.get("n", 1)})', colors.get(u.get("group"))))
    out.append(_legend(colors))
    out.append("</svg>")
    return "".join(out)


def _legend(colors: dict[str, str]) -> str:
    if not colors:
        return ""
    items, xpos = [], M["l"] + 6
    for name, color in colors.items():
        items.append(f'<circle cx="{xpos}" cy="{M["t"] + 8}" r="4" style="fill:{color}"/>'
                     f'<text class="legend" x="{xpos + 7}" y="{M["t"] + 12}">{escape(name)}</text>')
        xpos += 14 + 7 * len(name)
    return "".join(items)


def levels(groups: list[tuple[str, list[dict], list[dict]]], *, xlabel: str, ylabel: str,
           highlight: str | None = None) -> str:
    """Per level: its units (dots), their pixels (small dots) and a median bar; ``highlight`` in red."""
    ys = [u["y"] for _, us, _ in groups for u in us] + [p["y"] for _, _, ps in groups for p in ps]
    y = Scale.fit(ys, H - M["b"], M["t"])
    names = [g for g, _, _ in groups]
    out = _frame(None, y, xlabel, ylabel, categories=names)
    step = (W - M["r"] - M["l"]) / max(len(groups), 1)
    for k, (name, units, pixels) in enumerate(groups):
        centre = M["l"] + step * (k + 0.5)
        color = BAD if name == highlight else None
        for j, p in enumerate(pixels):
            jitter = ((j * 7919) % 13 - 6) / 6 * step * 0.22
            out.append(_dot(centre + jitter, y(p["y"]), 2.0, "pixel", f'{p["label"]}: {fmt(p["y"])}'))
        for j, u in enumerate(units):
            jitter = ((j * 104729) % 11 - 5) / 5 * step * 0.15
            out.append(_dot(centre + jitter, y(u["y"]), 4.0, "unit", f'{u["label"]}: {fmt(u["y"])}', color))
        if units:
            med = float(np.median([u["y"] for u in units]))
            out.append(f'<line class="median" x1="{centre - step * 0.3:.1f}" x2="{centre + step * 0.3:.1f}" '
                       f'y1="{y(med):.1f}" y2="{y(med):.1f}"><title>median {fmt(med)} (n = {len(units)})</title></line>')
    out.append("</svg>")
    return "".join(out)


def control_chart(chart, *, ylabel: str, width: int = 620, height: int = 250) -> str:
    """Individuals chart: centre, ±1/2/3σ, points in order, rule breakers in red with their rules."""
    pts = chart.points
    n = len(pts)
    vals = [p.value for p in pts] + ([chart.ucl, chart.lcl] if chart.centre is not None else [])
    left, right = M["l"], width - M["r"]
    y = Scale.fit(vals, height - M["b"], M["t"])

    def xpos(i: int) -> float:
        return left + (i + 0.5) * (right - left) / max(n, 1)

    out = _frame(None, y, "run date →", ylabel, width=width, height=height)
    if chart.centre is not None:
        for k, cls in ((3, "limit"), (2, "zone"), (1, "zone")):
            for sign in (1, -1):
                level = chart.centre + sign * k * chart.sigma
                out.append(f'<line class="{cls}" x1="{left}" x2="{right}" y1="{y(level):.1f}" y2="{y(level):.1f}"/>')
            if k == 3:
                out.append(f'<text class="limit-label" x="{right - 2}" y="{y(chart.ucl) - 3:.1f}" text-anchor="end">UCL {fmt(chart.ucl)}</text>'
                           f'<text class="limit-label" x="{right - 2}" y="{y(chart.lcl) + 11:.1f}" text-anchor="end">LCL {fmt(chart.lcl)}</text>')
        out.append(f'<line class="centre" x1="{left}" x2="{right}" y1="{y(chart.centre):.1f}" y2="{y(chart.centre):.1f}"/>')
    line = " ".join(f"{xpos(i):.1f},{y(p.value):.1f}" for i, p in enumerate(pts))
    out.append(f'<polyline class="series" points="{line}"/>')
    for i, p in enumerate(pts):
        when = p.date.isoformat() if p.date else ""
        rules = f" — rule {', '.join(map(str, p.rules))}" if p.rules else ""
        cls = "point ooc" if p.rules else "point"
        out.append(_dot(xpos(i), y(p.value), 4.0 if p.rules else 3.2, cls, f"{p.label} {when}: {fmt(p.value)}{rules}"))
        if p.rules:
            out.append(f'<text class="rule-mark" x="{xpos(i):.1f}" y="{y(p.value) - 7:.1f}" text-anchor="middle">'
                       f'{",".join(map(str, p.rules))}</text>')
    if n and n <= 16:
        for i, p in enumerate(pts):
            out.append(f'<text class="tick" x="{xpos(i):.1f}" y="{height - M["b"] + 14}" text-anchor="middle">'
                       f'{escape(p.date.strftime("%d %b") if p.date else p.label)}</text>')
    out.append("</svg>")
    return "".join(out)


def moving_range_chart(chart, *, width: int = 620, height: int = 130) -> str:
    mrs = chart.moving_ranges
    n = len(mrs)
    vals = [v for v in mrs if v is not None] + ([chart.mr_ucl] if chart.mr_ucl else [0.0])
    left, right = M["l"], width - M["r"]
    y = Scale.fit([*vals, 0.0], height - 26, 8, pad=0.04)

    def xpos(i: int) -> float:
        return left + (i + 0.5) * (right - left) / max(n, 1)

    out = [f'<svg class="ichart mr" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="moving range" '
           f'xmlns="http://www.w3.org/2000/svg"><rect class="plot-bg" x="{left}" y="8" width="{right - left}" height="{height - 34}"/>']
    for t in nice_ticks(y.lo, y.hi, 3):
        out.append(f'<text class="tick" x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{fmt(t)}</text>')
    if chart.mr_ucl:
        out.append(f'<line class="limit" x1="{left}" x2="{right}" y1="{y(chart.mr_ucl):.1f}" y2="{y(chart.mr_ucl):.1f}"/>'
                   f'<line class="centre" x1="{left}" x2="{right}" y1="{y(chart.mr_centre):.1f}" y2="{y(chart.mr_centre):.1f}"/>')
    pts = [(xpos(i), y(v), v) for i, v in enumerate(mrs) if v is not None]
    if pts:
        out.append('<polyline class="series" points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b, _ in pts) + '"/>')
        for a, b, v in pts:
            cls = "point ooc" if chart.mr_ucl and v > chart.mr_ucl else "point"
            out.append(_dot(a, b, 2.6, cls, f"MR {fmt(v)}"))
    out.append(f'<text class="axis-label" transform="translate(14 {(height - 18) / 2:.1f}) rotate(-90)" '
               f'text-anchor="middle">MR</text></svg>')
    return "".join(out)
