"""Reads over lineage shared by the metrics export (measurements.api.export) and the insights app:
which runs made a sample and its ancestors, and what those runs' parameters were.

Queries stay bounded whatever the number of samples: every sample's lineage in one recursive
query (one per 500 samples on SQLite), what of it the user may see (1), and the RunValues of all
those runs (1).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from core.access import restrict
from core.units import UnitError, convert

from .models import RunValue, Sample

_SQLITE_CHUNK = 500  # ids per IN (…) where there are no array parameters


def _ancestor_pairs(sample_ids: list[int]) -> list[tuple[int, int]]:
    """(sample, ancestor) for every ancestor of every sample: the lineage links one generation per
    query (a lineage is a few generations deep), joined up in Python. Not a recursive query:
    PostgreSQL cannot estimate a recursive walk and hashed the whole link table for every call
    (and a 200-part UNION of one per sample made its JIT compile for seconds, issue 15)."""
    link = Sample.parents.through
    step = None if connection.vendor == "postgresql" else _SQLITE_CHUNK
    parents: dict[int, list[int]] = defaultdict(list)
    seen: set[int] = set()
    frontier = sorted(set(sample_ids))
    while frontier:
        seen.update(frontier)
        chunks = [frontier] if step is None else [frontier[i:i + step] for i in range(0, len(frontier), step)]
        found: set[int] = set()
        for chunk in chunks:
            for child, parent in link.objects.filter(child_id__any_of=chunk).values_list("child_id", "parent_id"):
                parents[child].append(parent)
                found.add(parent)
        frontier = sorted(found - seen)
    pairs: list[tuple[int, int]] = []
    for root in sorted(set(sample_ids)):
        todo, up = list(parents.get(root, ())), set()
        while todo:
            a = todo.pop()
            if a not in up:
                up.add(a)
                todo.extend(parents.get(a, ()))
        pairs += [(root, a) for a in up]
    return pairs


def ancestor_ids(sample_ids: list[int]) -> set[int]:
    """Every sample upstream of any of ``sample_ids``."""
    return {a for _, a in _ancestor_pairs(list(sample_ids))}


def lineage_run_ids(sample_ids: list[int], user) -> dict[int, list[int]]:
    """sample id → ids of the runs that made it and its visible ancestors, nearest first."""
    sample_ids = list(sample_ids)
    pairs: list[tuple[int, int]] = [(sid, sid) for sid in sample_ids] + _ancestor_pairs(sample_ids)
    visible = dict(restrict(Sample.objects.filter(pk__any_of=sorted({a for _, a in pairs})), user)
                   .values_list("pk", "produced_by_id"))
    runs: dict[int, list[int]] = defaultdict(list)
    for root, ancestor in sorted(set(pairs), key=lambda p: (p[0], p[1] != p[0], -p[1])):
        run_id = visible.get(ancestor)
        if run_id and run_id not in runs[root]:
            runs[root].append(run_id)
    return runs


def lineage_parameter_columns(samples: QuerySet, user) -> list[str]:
    """The parameter columns ``run_parameter_columns`` can give for any of ``samples`` (a queryset
    of sample ids, e.g. the export's) and their visible ancestors, in recipe order: one query, so a
    streamed table can write its header before its rows."""
    table = Sample.parents.through._meta.db_table
    seed_sql, seed_params = samples.order_by().query.sql_with_params()  # no ORDER BY inside a UNION
    lineage = RawSQL(f"WITH RECURSIVE up(id) AS ({seed_sql} UNION SELECT sp.parent_id FROM {table} sp"
                     f" JOIN up ON sp.child_id = up.id) SELECT id FROM up", seed_params)
    runs = restrict(Sample.objects.filter(pk__in=lineage, produced_by__isnull=False), user).values("produced_by_id")
    rows = (RunValue.objects.filter(run_id__in=runs)
            .values_list("run__recipe_version__recipe__name", "parameter__step__order", "parameter__order",
                         "parameter__key", "unit").order_by().distinct())
    columns = [_parameter_column(name, order, key, unit) for name, order, _o, key, unit in sorted(set(rows))]
    return list(dict.fromkeys(columns))


def _parameter_column(recipe: str, step_order: int, key: str, unit: str) -> str:
    return f"{recipe} · {step_order}.{key}" + (f" [{unit}]" if unit else "")


def descendant_ids_by_level(sample_ids) -> set[int]:
    """Every sample downstream of any of ``sample_ids``, one generation per query (a lineage is a
    few generations deep). Not one recursive query: PostgreSQL cannot estimate a recursive walk's
    size and hashed the whole lineage table at every start (100+ ms for a few hundred starts)."""
    table = Sample.parents.through
    seen: set[int] = set()
    frontier = set(sample_ids)
    while frontier:
        children = set(table.objects.filter(parent_id__any_of=sorted(frontier)).values_list("child_id", flat=True))
        frontier = children - seen
        seen |= frontier
    return seen


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
    """run id → its parameters in recipe order (one query, plain value rows: model instances of
    every run value of a decade's lineage were most of the export's time)."""
    rows = (RunValue.objects.filter(run_id__any_of=sorted(run_ids))
            .values_list("run_id", "run__recipe_version__recipe_id", "run__recipe_version__recipe__name",
                         "parameter__step__order", "parameter__key", "unit", "actual_value", "actual_unit", "actual_text",
                         "planned_nominal", "planned_text", "is_deviation")
            .order_by("run_id", "parameter__step__order", "parameter__order", "pk"))
    out: dict[int, list[RunParameter]] = defaultdict(list)
    for (run_id, recipe_id, recipe, order, key, unit, actual, actual_unit, actual_text, nominal, planned_text,
         deviation) in rows:
        value = _run_value(actual, actual_unit, actual_text, nominal, planned_text, unit)
        out[run_id].append(RunParameter(run_id, _parameter_column(recipe, order, key, unit), recipe_id, recipe,
                                        f"{order}.{key}", unit, value, deviation))
    return out


def _run_value(actual, actual_unit, actual_text, nominal, planned_text, unit):
    """``run_value`` on the columns of a value row."""
    if actual is not None:
        try:
            return convert(actual, actual_unit or unit, unit)
        except UnitError:
            return actual
    if actual_text:
        return actual_text
    return nominal if nominal is not None else (planned_text or None)


def run_parameter_columns(run_ids: set[int]) -> dict[int, dict[str, object]]:
    """run id → {column: value} (the metrics export's parameter columns)."""
    return {run_id: {p.column: p.value for p in params} for run_id, params in run_parameters(run_ids).items()}
