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
from django.db.models import Q, QuerySet
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
    rows = sorted(set(RunValue.objects.filter(run_id__in=runs).values_list(*_EXPORT_FIELDS).order_by().distinct()),
                  key=lambda r: (r[2], r[3], r[5], r[6], r[7]))
    repeated = _repeated_step_names({r[0] for r in rows})
    return list(dict.fromkeys(_export_column(*r, repeated=repeated) for r in rows))


def _parameter_column(recipe: str, step_order: int, key: str, unit: str) -> str:
    return f"{recipe} · {step_order}.{key}" + (f" [{unit}]" if unit else "")


# version, step type, recipe, step order, step name, parameter order, key, unit
_EXPORT_FIELDS = ("run__recipe_version_id", "run__recipe_version__recipe__step_type", "run__recipe_version__recipe__name",
                  "parameter__step__order", "parameter__step__name", "parameter__order", "parameter__key", "unit")
STACK_COLUMN = "Device stack"


def _repeated_step_names(version_ids: set[int]) -> set[tuple[int, str]]:
    """(version, step name) that occur more than once in a version (stack A's two LiF layers)."""
    from recipes.models import RecipeStep

    seen: dict[tuple[int, str], int] = defaultdict(int)
    for key in RecipeStep.objects.filter(version_id__in=version_ids).values_list("version_id", "name"):
        seen[key] += 1
    return {key for key, n in seen.items() if n > 1}


def _export_column(version_id, step_type, recipe, order, step_name, _param_order, key, unit, *, repeated) -> str:
    """The export's column of a parameter. Device stacks (device-architecture recipes, whose steps
    are named by their layer) share one column per layer and parameter — "Device stack · TPBi ·
    thickness [nm]" whether stack A has TPBi as step 6 and stack B as step 5 — so one physical
    parameter is one column across stacks. A layer named twice in one stack (two LiF) cannot be
    matched by name: it keeps its recipe's own column, as every other recipe's parameter does."""
    from recipes.models import StepType

    if step_type == StepType.DEVICE_ARCHITECTURE and step_name and (version_id, step_name) not in repeated:
        return f"{STACK_COLUMN} · {step_name} · {key}" + (f" [{unit}]" if unit else "")
    return _parameter_column(recipe, order, key, unit)


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
    """run id → {column: value} (the metrics export's parameter columns, ``_export_column``)."""
    rows = (RunValue.objects.filter(run_id__in=run_ids)
            .values_list("run_id", *_EXPORT_FIELDS, "actual_value", "actual_unit", "actual_text", "planned_nominal",
                         "planned_text")
            .order_by("run_id", "parameter__step__order", "parameter__order", "pk"))
    rows = list(rows)
    repeated = _repeated_step_names({r[1] for r in rows})
    out: dict[int, dict[str, object]] = defaultdict(dict)
    for run_id, *column, actual, actual_unit, actual_text, nominal, planned_text in rows:
        out[run_id][_export_column(*column, repeated=repeated)] = _run_value(
            actual, actual_unit, actual_text, nominal, planned_text, column[-1])
    return dict(out)


# --- the run form's input-sample picker ------------------------------------------------------

INPUT_PICK_LIMIT = 50  # rows a picker shows at once; the search narrows the rest


def input_candidates_queryset(user) -> QuerySet:
    """Samples the user may take as a run's inputs: theirs to see, and not used up or thrown away."""
    from .models import SampleStatus

    return restrict(Sample.objects.all(), user).exclude(status__in=[SampleStatus.CONSUMED, SampleStatus.DISCARDED])


def input_candidates(user, *, q: str = "", kind: str = "", limit: int = INPUT_PICK_LIMIT) -> tuple[list[Sample], bool]:
    """Candidates matching a typed query and a kind, newest first, exact label matches ahead
    (``QD-2`` finds QD-0002 like the site search); at most ``limit``, and whether there are more.
    The query matches labels and names, with Unicode folded (CsPbI3 finds CsPbI₃)."""
    from core.search import label_forms, text_forms

    qs = input_candidates_queryset(user)
    if kind:
        qs = qs.filter(kind=kind)
    q = (q or "").strip()
    exact: list[Sample] = []
    if q:
        labels = {q, *label_forms(q)}
        exact_q = Q()
        for text in labels:
            exact_q |= Q(label__iexact=text)
        exact = list(qs.filter(exact_q).order_by("-created_at", "-id")[:limit])
        found = Q()
        for text in text_forms(q):
            found |= Q(label__icontains=text) | Q(name__icontains=text)
        qs = qs.filter(found).exclude(pk__in=[s.pk for s in exact])
    rest = list(qs.order_by("-created_at", "-id")[:limit + 1 - len(exact)])
    rows = exact + rest
    return rows[:limit], len(rows) > limit
