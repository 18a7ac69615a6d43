"""Matplotlib helpers (Agg backend, no display). The pipeline draws no figure: it stores each
analysis's charts as data (``charts.py``), the pages draw those in the browser, and a PNG or SVG
(a download, the traveller PDF) is drawn from the same chart on first request and cached
(``render_chart``; services.plot_image). Drawn cheaply:

- one Figure per thread, cleared and reused (no Figure, canvas and font set-up per image);
- fixed margins instead of a layout engine (constrained layout was a third of the time);
- the curves are the stored, downsampled ones (≤ 500 points a series: min/max per bucket);
- text is written as SVG text, not glyph outlines (``svg.fonttype = none``): smaller and faster;
- log axes carry major ticks only (their minor ticks were a third of the drawing time);
- an SVG still over ``MAX_SVG_BYTES`` has its dense series rasterised, so none grows with the file.
"""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")
# Figure text (titles carry file names and sample titles) prints as written: a "$…$" in a file
# name must not be parsed as mathtext, which fails on unbalanced dollars.
matplotlib.rcParams["text.parse_math"] = False
matplotlib.rcParams["svg.fonttype"] = "none"  # <text>, not paths: a third of the size and time
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

MAX_SVG_BYTES = 50_000  # issue 15: a served SVG figure stays small
PNG_DPI = 100  # the traveller prints figures ≈ 8 cm wide: 500 px is ≈ 160 dpi on paper
SVG_DPI = 72  # resolution of the parts rasterised inside an SVG


def render(fig: Figure, fmt: str = "svg", dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def _rasterise_dense(fig: Figure) -> None:
    for ax in fig.axes:
        for line in ax.get_lines():
            if len(line.get_xdata()) > 200:
                line.set_rasterized(True)
        for artist in ax.collections:
            artist.set_rasterized(True)


# --- charts (``charts.py``) drawn on request ------------------------------------------------------

CHART_SIZE_IN = (5.0, 3.6)
_local = threading.local()
_MARKERS = {"star": "*", "down": "v", "dot": "o"}
_STYLES = {"line": dict(ls="-", lw=1.2), "dashed": dict(ls="--", lw=1.0), "points": dict(ls="none", marker=".", ms=3),
           "linepoints": dict(ls="-", lw=1.0, marker="o", ms=3)}


def _reused_figure() -> Figure:
    """This thread's one Figure, cleared: building a Figure and its canvas per image costs more
    than drawing a 500-point chart."""
    fig = getattr(_local, "figure", None)
    if fig is None:
        fig = _local.figure = Figure(figsize=CHART_SIZE_IN)
    else:
        fig.clear()
    return fig


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten(value: float, _pos=None) -> str:
    if value == 0:
        return "0"
    exponent = np.log10(abs(value))
    if abs(exponent - round(exponent)) > 1e-6:
        return ""  # only decades are labelled
    return ("−" if value < 0 else "") + "10" + str(int(round(exponent))).translate(_SUPERSCRIPT)


def _axis_label(spec: dict) -> str:
    return f"{spec['label']} ({spec['unit']})" if spec.get("unit") else spec["label"]


def _finite(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def draw_chart(fig: Figure, chart: dict) -> None:
    """Draw one stored chart (the JSON of ``charts.chart``) on a cleared figure."""
    ax = fig.add_axes((0.15, 0.15, 0.80, 0.75))
    for spec, set_scale in ((chart["x"], ax.set_xscale), (chart["y"], ax.set_yscale)):
        if spec.get("symlog"):
            set_scale("symlog", linthresh=spec["symlog"])
        else:
            set_scale("log" if spec.get("log") else "linear")
    grid = chart.get("map")
    if grid:
        z = np.array([[np.nan if v is None else v for v in row] for row in grid["z"]], dtype=float)
        mesh = ax.pcolormesh(_finite(grid["x"]), _finite(grid["y"]), z, cmap="RdBu_r", vmin=-grid["limit"],
                             vmax=grid["limit"], shading="nearest", rasterized=True)
        fig.colorbar(mesh, ax=ax, label=grid.get("label", ""))
    for which in (ax.xaxis, ax.yaxis):
        if which.get_scale() in ("log", "symlog"):
            which.set_minor_locator(NullLocator())  # dozens of Tick artists per decade: a third of the time
            # Plain-text 10ⁿ labels: mathtext is off (file names in titles may hold "$").
            which.set_major_formatter(FuncFormatter(_power_of_ten))
    labelled = False
    for k, s in enumerate(chart["series"]):
        x, y = _finite(s["x"]), _finite(s["y"])
        if chart["x"].get("log"):
            x = np.where(x > 0, x, np.nan)
        if chart["y"].get("log"):
            y = np.where(y > 0, y, np.nan)
        ax.plot(x, y, color=s.get("color", f"C{k % 10}"), label=s.get("label"),
                          **_STYLES.get(s.get("style", "line"), _STYLES["line"]))
        labelled = labelled or bool(s.get("label"))
    for band in chart.get("bands", []):
        ax.axvspan(band["from"], band["to"], color="0.5", alpha=0.12)
    for v in chart.get("vlines", []):
        if v.get("x") is not None:
            ax.axvline(v["x"], color="0.4", ls=":", lw=0.8)
    for h in chart.get("hlines", []):
        if h.get("y") is not None:
            ax.axhline(h["y"], color="0.5", ls=":", lw=0.8)
    for m in chart.get("marks", []):
        if m.get("x") is None or m.get("y") is None:
            continue
        ax.plot([m["x"]], [m["y"]], _MARKERS.get(m.get("symbol"), "o"), color="k", ms=7)
        if m.get("label"):
            ax.annotate(m["label"], (m["x"], m["y"]), xytext=(4, 5), textcoords="offset points", fontsize=7)
    if chart.get("xlim"):
        ax.set_xlim(*chart["xlim"])
    if chart.get("ylim"):
        ax.set_ylim(*chart["ylim"])
    if chart.get("aspect") == "equal":
        ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(_axis_label(chart["x"]))
    ax.set_ylabel(_axis_label(chart["y"]))
    ax.set_title(chart.get("title", ""), fontsize=9)
    if labelled and len(chart["series"]) > 1:
        ax.legend(fontsize=7, frameon=False)


def render_chart(chart: dict, fmt: str = "png") -> bytes:
    """PNG (``PNG_DPI``) or SVG (≤ ``MAX_SVG_BYTES``: dense series rasterised if it is over) of one
    stored chart, on this thread's reused figure."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"unknown figure format {fmt!r}; use png or svg")
    fig = _reused_figure()
    draw_chart(fig, chart)
    if fmt == "png":
        return render(fig, "png", dpi=PNG_DPI)
    out = render(fig, "svg", dpi=SVG_DPI)
    if len(out) > MAX_SVG_BYTES:
        _rasterise_dense(fig)
        out = render(fig, "svg", dpi=SVG_DPI)
    return out
