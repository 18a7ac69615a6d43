"""A stored analysis chart (the JSON of measurements/analysis/charts.py: series of x/y points with
axis names, units and log flags, marks) drawn as PDF vectors on a traveller sheet: no raster, no
matplotlib — a 500-point curve is one path, a few milliseconds a figure (issue 15: 100 completed
travellers ≤ 10 s). The chart arrives as plain data, so this module knows no measurement model."""

from __future__ import annotations

import math
from typing import Any

from reportlab.lib import colors
from reportlab.platypus import Flowable

FONT = "DejaVuSans"  # registered by traveller/pdf.py; has ², µ and the superscript digits of 10ⁿ
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _label(axis: dict[str, Any]) -> str:
    return f"{axis['label']} ({axis['unit']})" if axis.get("unit") else axis["label"]


def _fmt(v: float) -> str:
    a = abs(v)
    if a and (a >= 1e5 or a < 1e-3):
        return f"{v:.0e}"
    return f"{v:.4g}"


class _Scale:
    """Data → points on one axis, linear or log10 (non-positive values dropped on a log axis)."""

    def __init__(self, values: list[float], log: bool, lo_pt: float, hi_pt: float, fixed=None):
        self.log = log
        v = [math.log10(x) if log else x for x in values if x is not None and math.isfinite(x) and (not log or x > 0)]
        lo, hi = (min(v), max(v)) if v else (0.0, 1.0)
        if fixed and log:
            lo, hi = (math.log10(fixed[0]) if fixed[0] > 0 else lo), math.log10(fixed[1])
        elif fixed:
            lo, hi = fixed
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        if not log and not fixed:
            pad = (hi - lo) * 0.04
            lo, hi = lo - pad, hi + pad
        self.lo, self.hi, self.lo_pt, self.hi_pt = lo, hi, lo_pt, hi_pt

    def __call__(self, x: float | None) -> float | None:
        if x is None or not math.isfinite(x) or (self.log and x <= 0):
            return None
        t = ((math.log10(x) if self.log else x) - self.lo) / (self.hi - self.lo)
        return self.lo_pt + t * (self.hi_pt - self.lo_pt)

    def ticks(self) -> list[tuple[float, str]]:
        if self.log:
            decades = list(range(math.ceil(self.lo - 1e-9), math.floor(self.hi + 1e-9) + 1))
            every = max(1, math.ceil(len(decades) / 5))
            return [(self(10.0 ** e), "10" + str(e).translate(_SUPERSCRIPT)) for e in decades if e % every == 0]
        span = self.hi - self.lo
        step0 = span / 4
        mag = 10 ** math.floor(math.log10(step0))
        step = next((m * mag for m in (1, 2, 2.5, 5, 10) if span / (m * mag) <= 4), 10 * mag)
        out, t = [], math.ceil(self.lo / step) * step
        while t <= self.hi + step * 1e-9:
            out.append((self(t), _fmt(0.0 if abs(t) < step * 1e-9 else t)))
            t += step
        return out


class ChartFlowable(Flowable):
    """One stored chart, ``width`` × ``height`` points, axes labelled with their units."""

    def __init__(self, chart: dict[str, Any], width: float, height: float):
        super().__init__()
        self.chart, self.width, self.height = chart, width, height

    def wrap(self, *_):
        return self.width, self.height

    def draw(self) -> None:
        c, chart = self.canv, self.chart
        left, bottom, right, top = 30.0, 22.0, self.width - 4.0, self.height - 4.0
        series = chart.get("series", [])
        marks = [m for m in chart.get("marks", []) if m.get("x") is not None and m.get("y") is not None]
        xs = [x for s in series for x in s["x"]] + [m["x"] for m in marks]
        ys = [y for s in series for y in s["y"]] + [m["y"] for m in marks]
        sx = _Scale(xs, bool(chart["x"].get("log")), left, right, chart.get("xlim"))
        sy = _Scale(ys, bool(chart["y"].get("log")), bottom, top, chart.get("ylim"))
        c.saveState()
        c.setFont(FONT, 5.5)
        c.setStrokeColor(colors.HexColor("#e4e6ea"))
        c.setLineWidth(0.3)
        for at, text in sx.ticks():
            if at is not None and left - 0.5 <= at <= right + 0.5:
                c.line(at, bottom, at, top)
                c.drawCentredString(at, bottom - 7, text)
        for at, text in sy.ticks():
            if at is not None and bottom - 0.5 <= at <= top + 0.5:
                c.line(left, at, right, at)
                c.drawRightString(left - 2, at - 2, text)
        c.setStrokeColor(colors.HexColor("#888888"))
        c.rect(left, bottom, right - left, top - bottom)
        c.setFont(FONT, 6)
        c.drawCentredString((left + right) / 2, 3, _label(chart["x"]))
        c.saveState()
        c.translate(7, (bottom + top) / 2)
        c.rotate(90)
        c.drawCentredString(0, 0, _label(chart["y"]))
        c.restoreState()
        clip = c.beginPath()
        clip.rect(left, bottom, right - left, top - bottom)
        c.clipPath(clip, stroke=0, fill=0)
        for k, s in enumerate(series):
            color = colors.HexColor(s.get("color") or PALETTE[k % len(PALETTE)])
            c.setStrokeColor(color)
            c.setFillColor(color)
            c.setLineWidth(0.8)
            c.setDash(3, 2) if s.get("style") == "dashed" else c.setDash()
            points = [(sx(x), sy(y)) for x, y in zip(s["x"], s["y"], strict=False)]
            if s.get("style") == "points":
                for px, py in points:
                    if px is not None and py is not None:
                        c.circle(px, py, 0.6, stroke=0, fill=1)
                continue
            path, pen = c.beginPath(), False
            for px, py in points:
                if px is None or py is None:
                    pen = False
                    continue
                path.lineTo(px, py) if pen else path.moveTo(px, py)
                pen = True
            c.drawPath(path, stroke=1, fill=0)
        c.setDash()
        c.setFillColor(colors.black)
        c.setFont(FONT, 5.5)
        for m in marks:
            px, py = sx(m["x"]), sy(m["y"])
            if px is None or py is None:
                continue
            c.circle(px, py, 1.4, stroke=0, fill=1)
            if m.get("label"):
                ty = py - 7 if py > top - 8 else py + 2  # below a mark at the top edge, not clipped
                c.drawString(px + 3, ty, m["label"]) if px < (left + right) / 2 else c.drawRightString(
                    px - 3, ty, m["label"])
        c.restoreState()
