"""Panels portal adds to the lower apps' pages (registered in PortalConfig.ready).

    measurement_panel(request, sample)  the sample page's measurement files, charts and metrics
"""

from __future__ import annotations

from django.db.models import Prefetch

from core.access import restrict
from measurements.models import Analysis, DerivedMetric, FileStatus, MeasurementFile, Plot


def measurement_panel(request, sample) -> dict:
    files = (restrict(MeasurementFile.objects.filter(sample=sample, hidden=False), request.user)
             .select_related("pixel", "instrument", "uploaded_by"))
    # The current analyses whose figures the page draws from their stored charts (static/js/charts.js);
    # an analysis stored before charts existed brings its figure rows (names only: shown as <img>).
    charted = (restrict(Analysis.objects.filter(sample=sample, superseded=False), request.user)
               .select_related("pixel").order_by("pixel__label", "kind", "id")
               .prefetch_related(Prefetch("plots", queryset=Plot.objects.only("id", "analysis_id", "name", "title"))))
    metrics = (restrict(DerivedMetric.objects.filter(sample=sample).current(), request.user)
               .select_related("pixel").order_by("name", "pixel__label", "-created_at"))
    return {"files": files, "charted": charted, "metrics": _metric_rows(metrics), "FAILED": FileStatus.FAILED}


def _metric_rows(metrics) -> list[dict]:
    """One row per metric name: the sample/device value, best and median pixel roll-ups, and the
    per-pixel values, so a device with four pixels reads as one line per metric."""
    rows: dict[str, dict] = {}
    for m in metrics:
        row = rows.setdefault(m.name, {"name": m.name, "unit": m.unit, "value": None, "best": None, "median": None,
                                       "pixels": []})
        if m.pixel_id:
            row["pixels"].append(m)
        elif m.aggregate in ("best", "median"):
            row[m.aggregate] = row[m.aggregate] or m
        else:
            row["value"] = row["value"] or m
    return list(rows.values())
