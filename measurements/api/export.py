"""The group lead's table: one row per pixel, device or sample; one column per current metric
and per recipe parameter of the sample's lineage (actual value where logged, else planned).

Queries stay bounded whatever the number of rows: the metric rows (1), every target's lineage
through ``Sample.ancestors()`` combined into one UNION (1 per 200 samples), what of it the user
may see (1), and the RunValues of all those runs (1).
"""

from __future__ import annotations

import io
from collections import defaultdict

import pandas as pd
from django.db.models import IntegerField, QuerySet, Value

from core.access import restrict
from core.units import UnitError
from measurements.models import Aggregate, DerivedMetric
from samples.models import RunValue, Sample

ID_COLUMNS = ["target", "scope", "sample", "device", "pixel", "project", "sample_name"]
# What a number's caveats are travel with it: each metric's flags and its analysis's warnings.
CAVEAT_COLUMNS = ["flags", "warnings"]
_UNION_CHUNK = 200  # SQLite allows 500 terms in one compound SELECT


def _metric_column(row: DerivedMetric) -> str:
    unit = f" [{row.unit}]" if row.unit else ""
    agg = f" ({row.aggregate})" if row.aggregate != Aggregate.VALUE else ""
    return f"{row.name}{agg}{unit}"


def _lineage_runs(sample_ids: list[int], user) -> dict[int, list[int]]:
    """sample id -> ids of the runs that made it and its visible ancestors, nearest first."""
    pairs: list[tuple[int, int]] = [(sid, sid) for sid in sample_ids]
    for start in range(0, len(sample_ids), _UNION_CHUNK):
        chunk = Sample.objects.filter(pk__in=sample_ids[start:start + _UNION_CHUNK])
        parts = [s.ancestors().annotate(root=Value(s.pk, output_field=IntegerField())).values_list("root", "pk")
                 .order_by() for s in chunk.only("pk")]
        if parts:
            pairs += list(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else list(parts[0])
    visible = dict(restrict(Sample.objects.filter(pk__in={a for _, a in pairs}), user)
                   .values_list("pk", "produced_by_id"))
    runs: dict[int, list[int]] = defaultdict(list)
    for root, ancestor in sorted(pairs, key=lambda p: (p[0], p[1] != p[0], -p[1])):
        run_id = visible.get(ancestor)
        if run_id and run_id not in runs[root]:
            runs[root].append(run_id)
    return runs


def _param_value(v: RunValue):
    if v.actual_value is not None:
        try:
            return v.actual_in_planned_unit()
        except UnitError:
            return v.actual_value
    if v.actual_text:
        return v.actual_text
    return v.planned_nominal if v.planned_nominal is not None else (v.planned_text or None)


def _param_columns(run_ids: set[int]) -> dict[int, dict[str, object]]:
    values = (RunValue.objects.filter(run_id__in=run_ids)
              .select_related("parameter__step", "run__recipe_version__recipe").order_by("run_id", "parameter__step__order",
                                                                                         "parameter__order", "pk"))
    out: dict[int, dict[str, object]] = defaultdict(dict)
    for v in values:
        unit = f" [{v.unit}]" if v.unit else ""
        column = f"{v.run.recipe_version.recipe.name} · {v.parameter.step.order}.{v.parameter.key}{unit}"
        out[v.run_id][column] = _param_value(v)
    return out


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
    runs_of = _lineage_runs(sample_ids, user)
    params = _param_columns({r for ids in runs_of.values() for r in ids})
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
