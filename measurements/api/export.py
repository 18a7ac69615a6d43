"""The group lead's table: one row per pixel, device or sample; one column per current metric
and per recipe parameter of the sample's lineage (actual value where logged, else planned).

Queries stay bounded whatever the number of rows: the metric rows (1), then the lineage join of
``samples.selectors`` (shared with the insights app): every target's lineage in one UNION (1 per
200 samples), what of it the user may see (1), and the RunValues of all those runs (1).
"""

from __future__ import annotations

import io
from collections import defaultdict

import pandas as pd
from django.db.models import QuerySet

from measurements.models import Aggregate, DerivedMetric
from samples.selectors import lineage_run_ids, run_parameter_columns

ID_COLUMNS = ["target", "scope", "sample", "device", "pixel", "project", "sample_name"]
# What a number's caveats are travel with it: each metric's flags and its analysis's warnings.
CAVEAT_COLUMNS = ["flags", "warnings"]


def _metric_column(row: DerivedMetric) -> str:
    unit = f" [{row.unit}]" if row.unit else ""
    agg = f" ({row.aggregate})" if row.aggregate != Aggregate.VALUE else ""
    return f"{row.name}{agg}{unit}"


def metrics_table(metrics: QuerySet, user) -> pd.DataFrame:
    rows: dict[tuple, dict[str, object]] = {}
    metric_columns: list[str] = []
    caveats: dict[tuple, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for m in metrics.select_related("sample__project", "device__sample", "pixel", "analysis").order_by(
            "sample_id", "pixel_id", "name", "-created_at"):
        target = m.pixel or (m.device if m.scope != "sample" else None) or m.sample
        key = (type(target).__name__, target.pk, m.subject)
        row = rows.setdefault(key, {
            "target": (m.pixel.label if m.pixel else m.sample.label) + (f" · {m.subject}" if m.subject else ""),
            "scope": m.scope,
            "sample": m.sample.label,
            "device": m.device.sample.label if m.device else None,
            "pixel": m.pixel.label if m.pixel else None,
            "project": m.sample.project.code,
            "sample_name": m.sample.name,
            "_sample_id": m.sample_id,
        })
        column = _metric_column(m)
        if column not in row:  # newest first within a name: keep the first seen
            row[column] = m.value
            flags, warnings = caveats[key]
            if m.flags:
                flags.append(f"{m.name}: {', '.join(m.flags)}")
            for warning in (m.analysis.warnings or []) if m.analysis_id else []:
                if warning not in warnings:
                    warnings.append(warning)
        if column not in metric_columns:
            metric_columns.append(column)
    sample_ids = sorted({r["_sample_id"] for r in rows.values()})
    runs_of = lineage_run_ids(sample_ids, user)
    params = run_parameter_columns({r for ids in runs_of.values() for r in ids})
    param_columns: list[str] = []
    for row in rows.values():
        for run_id in runs_of.get(row["_sample_id"], []):
            for column, value in params.get(run_id, {}).items():
                row.setdefault(column, value)  # nearest run wins if two share a recipe
                if column not in param_columns:
                    param_columns.append(column)
    for key, row in rows.items():
        flags, warnings = caveats[key]
        row["flags"], row["warnings"] = "; ".join(flags), " | ".join(warnings)
    columns = ID_COLUMNS + CAVEAT_COLUMNS + sorted(metric_columns) + param_columns
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows.values()], columns=columns)


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def to_xlsx(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name="metrics", engine="openpyxl")
    return buffer.getvalue()
