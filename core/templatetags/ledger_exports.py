"""Export buttons for the lists and Compare: CSV (with the UTF-8 BOM, for Excel) and Excel links
to the metrics export (``/api/v1/metrics/export/``, the measurements app's), carrying the page's
filters. Reversed by route name so the pages below measurements need not import it."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()

MAX_LABELS = 200  # labels in one link; more would make an address some browsers refuse


@register.inclusion_tag("includes/export_buttons.html")
def metrics_export_buttons(what: str = "", samples=None, **filters):
    """``samples``: labels (or objects with ``.label``) the export is restricted to; other keyword
    filters (project, pixel, name) pass through as the export's own filters; empty ones drop."""
    try:
        base = reverse("api:metric-export")
    except NoReverseMatch:  # the measurements API is not installed: no buttons
        return {"links": []}
    query = {k: v for k, v in filters.items() if v}
    if samples is not None:
        labels = [getattr(s, "label", s) for s in samples][:MAX_LABELS]
        if not labels:
            return {"links": []}
        query["sample"] = ",".join(labels)
    csv = f"{base}?{urlencode({'format': 'csv', 'bom': '1', **query})}"
    xlsx = f"{base}?{urlencode({'format': 'xlsx', **query})}"
    return {"links": [("Metrics CSV", csv), ("Metrics Excel", xlsx)], "what": what}
