"""Matplotlib helpers (Agg backend, no display). Plots are made once per analysis."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
# Figure text (titles carry file names and sample titles) prints as written: a "$…$" in a file
# name must not be parsed as mathtext, which fails on unbalanced dollars.
matplotlib.rcParams["text.parse_math"] = False
from matplotlib.figure import Figure  # noqa: E402


def new_figure(width_in: float = 5.0, height_in: float = 3.6) -> Figure:
    # Figure() directly (not pyplot) so nothing is kept in a global registry between tasks.
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    return fig


def render(fig: Figure, fmt: str = "svg", dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()
