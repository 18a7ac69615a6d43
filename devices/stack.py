"""Device stack cross-section as inline SVG.

Heights are proportional to log10(1 + thickness/nm) with a floor, so a 1 nm LiF layer stays
visible beside 90 nm of Al; the page states this scale."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FUNCTION_COLOURS = {
    "substrate": "#cfd8dc", "anode": "#9ecae1", "hil": "#c6dbef", "htl": "#a1d99b", "interlayer": "#fdd0a2",
    "eml": "#fc9272", "etl": "#bcbddc", "eil": "#dadaeb", "cathode": "#969696", "encapsulation": "#e0e0e0",
}
MIN_H, SCALE, WIDTH, BAR_W, X0 = 20, 30, 600, 260, 10


def layer_colour(function: str) -> str:
    return FUNCTION_COLOURS.get((function or "").strip().lower(), "#e6e6e6")


def layer_height(thickness_nm: float | None) -> float:
    if not thickness_nm:
        return MIN_H + 6  # unknown thickness: drawn dashed, a little taller than the thinnest
    return max(MIN_H, SCALE * math.log10(1 + thickness_nm))


def stack_svg(layers) -> SafeString:
    """``layers`` ordered substrate side first; drawn with the substrate at the bottom."""
    layers = list(layers)
    heights = [layer_height(layer.display_thickness_nm) for layer in layers]
    total = sum(heights)
    height = total + 40
    out = [f'<svg class="stack" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" '
           f'height="{height:.0f}" role="img" aria-label="Device stack cross-section">']
    y = 20 + total
    for layer, h in zip(layers, heights, strict=True):
        y -= h
        t = layer.display_thickness_nm
        thick = f"{t:g} nm" if t is not None else "thickness n/a"
        outline = 'stroke="#5f6b7a" stroke-dasharray="4 3"' if t is None else 'stroke="#fff"'
        if layer.thickness_nm is None and t is not None:
            thick += " (nominal)"
        out.append(
            f'<g class="layer" data-material="{escape(layer.material)}"><title>{escape(layer.material)} · {escape(thick)}</title>'
            f'<rect x="{X0}" y="{y:.1f}" width="{BAR_W}" height="{h:.1f}" fill="{layer_colour(layer.function)}" '
            f'{outline}/>'
            f'<text x="{X0 + 10}" y="{y + h / 2 + 4:.1f}" font-size="12" fill="#1d2330">{escape(layer.material)}</text>'
            f'<text x="{X0 + BAR_W + 12}" y="{y + h / 2 + 4:.1f}" font-size="12" fill="#1d2330">{escape(thick)}</text>'
            f'<text x="{X0 + BAR_W + 125}" y="{y + h / 2 + 4:.1f}" font-size="11" fill="#5f6b7a">{escape(layer.function or "")}'
            f'{" · " + escape(layer.method) if layer.method else ""}</text></g>')
    out.append("</svg>")
    return mark_safe("".join(out))  # all interpolated text is escaped
