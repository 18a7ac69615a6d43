"""Matplotlib helpers (Agg backend, no display). Plots are made once per analysis, after its
metrics are stored (services.measurement_file_process), and drawn cheaply:

- the layout is solved once per figure (not again for each output format);
- text is written as SVG text, not glyph outlines (``svg.fonttype = none``): smaller and faster;
- a line with more points than the figure has pixels is thinned to its min/max envelope per
  pixel column, which draws the same picture (peaks and noise bands kept) with far fewer vertices;
- log axes carry major ticks only (their minor ticks were a third of the drawing time);
- maps (images, meshes) are rasterised inside the SVG; a figure whose SVG is still over
  ``MAX_SVG_BYTES`` has its dense series rasterised too, so no stored SVG grows with the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
# Figure text (titles carry file names and sample titles) prints as written: a "$…$" in a file
# name must not be parsed as mathtext, which fails on unbalanced dollars.
matplotlib.rcParams["text.parse_math"] = False
matplotlib.rcParams["svg.fonttype"] = "none"  # <text>, not paths: a third of the size and time
import numpy as np  # noqa: E402
from matplotlib.collections import Collection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

MAX_SVG_BYTES = 50_000  # issue 15: a stored figure stays small enough to inline in a page
PNG_DPI = 100  # the traveller prints figures ≈ 8 cm wide: 500 px is ≈ 160 dpi on paper
SVG_DPI = 72  # resolution of the parts rasterised inside an SVG
DENSE_POINTS = 2_000  # a line longer than this is thinned to its per-pixel envelope


def new_figure(width_in: float = 5.0, height_in: float = 3.6) -> Figure:
    # Figure() directly (not pyplot) so nothing is kept in a global registry between tasks.
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    return fig


def render(fig: Figure, fmt: str = "svg", dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


@dataclass(frozen=True)
class Rendered:
    name: str
    title: str
    svg: str
    png: bytes


def _envelope(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Min and max of y in each of ``columns`` equal slices of the (sorted) x range, in order."""
    n = x.size
    if n <= 2 * columns or not np.all(np.diff(x) >= 0):
        return None
    edges = np.linspace(0, n, columns + 1).astype(int)
    keep = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if hi <= lo:
            continue
        seg = y[lo:hi]
        finite = np.isfinite(seg)
        if not finite.any():
            keep.append(lo)
            continue
        i_min, i_max = lo + int(np.nanargmin(seg)), lo + int(np.nanargmax(seg))
        keep.extend(sorted({lo, i_min, i_max}))
    idx = np.unique(np.asarray(keep + [n - 1]))
    return x[idx], y[idx]


def thin(fig: Figure) -> None:
    """Dense lines → their per-pixel envelope; maps → rasterised (see the module docstring)."""
    width_px = int(fig.get_figwidth() * PNG_DPI)
    for ax in fig.axes:
        # Log axes' minor ticks are dozens of Tick artists each (a third of the drawing time).
        if ax.get_xscale() == "log" or ax.get_yscale() == "log":
            ax.minorticks_off()
        for line in ax.get_lines():
            x, y = (np.asarray(v, dtype=float) for v in line.get_data())
            if x.size > DENSE_POINTS:
                thinned = _envelope(x, y, width_px)
                if thinned is not None:
                    line.set_data(*thinned)
        for artist in ax.get_children():
            if isinstance(artist, AxesImage) or (isinstance(artist, Collection) and not isinstance(artist, Line2D)
                                                   and _vertex_count(artist) > DENSE_POINTS):
                artist.set_rasterized(True)


def _vertex_count(artist: Collection) -> int:
    try:
        return sum(len(p.vertices) for p in artist.get_paths())
    except Exception:  # noqa: BLE001 — an artist without paths is not dense
        return 0


def _rasterise_dense(fig: Figure) -> None:
    for ax in fig.axes:
        for line in ax.get_lines():
            if len(line.get_xdata()) > 200:
                line.set_rasterized(True)
        for artist in ax.collections:
            artist.set_rasterized(True)


def render_figure(name: str, fig: Figure) -> Rendered:
    """SVG (≤ MAX_SVG_BYTES) and PNG of one figure, its layout solved once for both."""
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else name.replace("_", " ")
    thin(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)  # once, then frozen: savefig would solve it again for each format
        fig.set_layout_engine("none")
    svg = render(fig, "svg", dpi=SVG_DPI)
    if len(svg) > MAX_SVG_BYTES:
        _rasterise_dense(fig)
        svg = render(fig, "svg", dpi=SVG_DPI)
    return Rendered(name=name, title=title[:200], svg=svg.decode(), png=render(fig, "png", dpi=PNG_DPI))


def render_figures(figures: dict[str, Figure]) -> list[Rendered]:
    return [render_figure(name, fig) for name, fig in figures.items()]
