"""Display helpers for measurement numbers."""

from django import template

from measurements.metric_names import format_metric_value, format_significant, metric_name

register = template.Library()


@register.filter
def sig(value, digits: int = 4) -> str:
    """A metric at a sensible precision: 4 significant digits, no exponent for lab-sized numbers."""
    return format_significant(value, digits)


@register.filter
def filesize(num_bytes) -> str:
    size = float(num_bytes or 0)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


PLOT_CAPTIONS = {"jvl": "J–V and L–V", "eqe_j": "EQE vs J", "el_spectrum": "EL spectrum and CIE 1931 point",
                 "lifetime": "L(t)/L0", "acceleration": "T50 vs L0 (acceleration fit)"}


@register.filter
def plot_caption(plot) -> str:
    """A readable caption when the analysis gave its figure no title of its own."""
    if plot.title and plot.title != plot.name.replace("_", " "):
        return plot.title
    return PLOT_CAPTIONS.get(plot.name, plot.title or plot.name)


@register.filter
def metric_label(name: str, unit: str = "") -> str:
    """'eqe_max' → 'EQE max' (measurements.metric_names, the one registry)."""
    return metric_name(name, unit or "").label


@register.filter
def metric_heading(name: str, unit: str = "") -> str:
    """'eqe_max' → 'EQE max (%)'."""
    return metric_name(name, unit or "").heading


@register.filter
def metric_value(metric) -> str:
    """A metric's value to its registry's significant digits."""
    return format_metric_value(metric.name, metric.value)
