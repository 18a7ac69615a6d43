from django import template

register = template.Library()


@register.filter
def unit_x(value) -> str:
    """An effect in −1…1 as an x position in the 0–100 interval glyph."""
    try:
        v = max(-1.0, min(1.0, float(value)))
    except (TypeError, ValueError):
        return "50"
    return f"{50 + 48 * v:.1f}"
