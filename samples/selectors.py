"""Reads over lineage shared by the metrics export (measurements.api.export) and the insights app:
which runs made a sample and its ancestors, and what those runs' parameters were.

Queries stay bounded whatever the number of samples: every sample's lineage through
``Sample.ancestors()`` combined into one UNION (1 per 200 samples), what of it the user may see
(1), and the RunValues of all those runs (1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import IntegerField, Value

from core.access import restrict
from core.units import UnitError

from .models import RunValue, Sample

_UNION_CHUNK = 200  # SQLite allows 500 terms in one compound SELECT


def lineage_run_ids(sample_ids: list[int], user) -> dict[int, list[int]]:
    """sample id → ids of the runs that made it and its visible ancestors, nearest first."""
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


def descendant_ids(sample_ids: list[int]) -> set[int]:
    """Every sample downstream of any of ``sample_ids`` (one recursive query per 500 starts)."""
    found: set[int] = set()
    table = Sample.parents.through._meta.db_table
    for start in range(0, len(sample_ids), 500):
        chunk = list(sample_ids[start:start + 500])
        if not chunk:
            continue
        marks = ", ".join(["%s"] * len(chunk))
        sql = (f"WITH RECURSIVE down(id) AS (SELECT child_id FROM {table} WHERE parent_id IN ({marks})"
               f" UNION SELECT sp.child_id FROM {table} sp JOIN down ON sp.parent_id = down.id) SELECT id FROM down")
        with connection.cursor() as cursor:
            cursor.execute(sql, chunk)
            found.update(row[0] for row in cursor.fetchall())
    return found


def run_value(v: RunValue):
    """What a run's parameter was: the logged actual (in the planned unit), else the planned value."""
    if v.actual_value is not None:
        try:
            return v.actual_in_planned_unit()
        except UnitError:
            return v.actual_value
    if v.actual_text:
        return v.actual_text
    return v.planned_nominal if v.planned_nominal is not None else (v.planned_text or None)


@dataclass(frozen=True)
class RunParameter:
    """One RunValue as a table column: ``column`` is "<recipe> · <step>.<key> [unit]"."""

    run_id: int
    column: str
    recipe_id: int
    recipe: str
    path: str  # "<step order>.<key>", as recipe_version_revise and run_record_actuals name it
    unit: str
    value: object
    is_deviation: bool


def run_parameters(run_ids: set[int]) -> dict[int, list[RunParameter]]:
    """run id → its parameters in recipe order (one query)."""
    values = (RunValue.objects.filter(run_id__in=run_ids)
              .select_related("parameter__step", "run__recipe_version__recipe")
              .order_by("run_id", "parameter__step__order", "parameter__order", "pk"))
    out: dict[int, list[RunParameter]] = defaultdict(list)
    for v in values:
        recipe = v.run.recipe_version.recipe
        path = f"{v.parameter.step.order}.{v.parameter.key}"
        unit = f" [{v.unit}]" if v.unit else ""
        out[v.run_id].append(RunParameter(v.run_id, f"{recipe.name} · {path}{unit}", recipe.pk, recipe.name, path, v.unit,
                                          run_value(v), v.is_deviation))
    return out


def run_parameter_columns(run_ids: set[int]) -> dict[int, dict[str, object]]:
    """run id → {column: value} (the metrics export's parameter columns)."""
    return {run_id: {p.column: p.value for p in params} for run_id, params in run_parameters(run_ids).items()}
