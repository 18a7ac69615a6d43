import math
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from measurements.metric_names import format_significant

register = template.Library()

_CENT = Decimal("0.01")


@register.filter
def unit_x(value) -> str:
    """An effect in −1…1 as an x position in the 0–100 interval glyph."""
    try:
        v = max(-1.0, min(1.0, float(value)))
    except (TypeError, ValueError):
        return "50"
    return f"{50 + 48 * v:.1f}"


def fixed2(value) -> str:
    """Django's ``floatformat:2`` of a number without its localisation pass: the same text (half
    up on the number's shortest decimal form, no negative zero, "" for nothing)."""
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(number):
        return str(number)
    text = f"{Decimal(repr(number)).quantize(_CENT, rounding=ROUND_HALF_UP):f}"
    return "0.00" if text == "-0.00" else text


def _interval(lo, hi, effect) -> SafeString:
    return format_html(
        '<span class="interval" title="{} to {}"><svg viewBox="0 0 100 10" width="100" height="10" aria-hidden="true">'
        '<line class="zero" x1="50" x2="50" y1="0" y2="10"/><line class="ci" x1="{}" x2="{}" y1="5" y2="5"/>'
        '<circle class="est" cx="{}" cy="5" r="2.6"/></svg> <span class="small muted">[{}, {}]</span></span>',
        fixed2(lo), fixed2(hi), unit_x(lo), unit_x(hi), unit_x(effect), fixed2(lo), fixed2(hi))


@register.simple_tag
def driver_row(item: dict, unit: str) -> SafeString:
    """One row of a drivers table (``item``: the row, its column and label), every text escaped.

    One tag instead of a dozen tags, filters and an include per cell: a family's table has a few
    hundred rows and the template language spent most of the warm page on them (issue 15)."""
    r, col = item["row"], item["col"]
    classes = ("sig" if r.significant else "") + (" skipped" if r.effect is None else "")
    param = format_html('<strong>{}</strong><div class="small muted">{}</div>',
                        (col.short if col is not None else "") or item["label"], col.where if col is not None else "")
    if r.kind == "categorical" and r.level:
        param += format_html('<div class="small">{} vs the rest: {} {}</div>', r.level,
                             format_significant(r.level_shift, 3), unit)
    if r.slope is not None:
        slope = format_html('{} <span class="muted small">[{}, {}]</span>', format_significant(r.slope, 3),
                            format_significant(r.slope_ci_low, 2), format_significant(r.slope_ci_high, 2))
    else:
        slope = ""
    if r.n_runs is not None:
        n = format_html('{} <span class="muted small">runs · {} dev. ({})</span>', r.n_runs, r.n_units, r.n_rows)
    else:
        n = format_html('{} <span class="muted small">({})</span>', r.n_units, r.n_rows)
    cells = [
        format_html('<td class="num">{}</td>', r.rank or "—"),
        format_html('<td class="param">{}</td>', param),
        format_html('<td class="num effect">{}</td>', fixed2(r.effect) if r.effect is not None else "—"),
        format_html('<td class="nowrap">{}</td>',
                    _interval(r.ci_low, r.ci_high, r.effect) if r.effect is not None else ""),
        format_html('<td class="num nowrap">{}</td>', slope),
        format_html('<td class="num">{}</td>', format_significant(r.q_value, 2) if r.q_value is not None else ""),
        format_html('<td class="num nowrap">{}</td>', n),
        format_html('<td class="small">{}</td>', "; ".join(str(w) for w in r.warnings)),
    ]
    return format_html('<tr class="{}" data-parameter="{}" data-rank="{}">{}</tr>', classes, r.parameter,
                       r.rank or "", mark_safe("".join(conditional_escape(c) for c in cells)))  # noqa: S308
