"""Reads for the insights pages: the measured rows of a recipe family as one DataFrame (metrics
beside the actual values along each sample's lineage, the recipe versions, run dates and lots),
and what the pages, the API, the recipe panel and the home page show from it.

The lineage join is ``samples.selectors`` (the metrics export uses the same one). Queries: the
family (2), the metric rows (1), the lineage (1 per 200 samples + 1), the runs with their lots (2),
the run values (1), the parameter names (1) — independent of the number of samples.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Window
from django.db.models.functions import Coalesce, RowNumber, TruncDate
from django.utils import timezone

from core.access import restrict, visibility_key
from devices.models import Pixel
from measurements.models import Aggregate, DerivedMetric
from recipes.models import Chemical, ChemicalLot, Recipe, RecipeParameter, RecipeStep, RecipeVersion
from samples.models import ProcessRun, Project, RunValue, Sample, SampleParent
from samples.selectors import ancestor_ids, descendant_ids_by_level, lineage_run_ids, run_parameters

from .science import drivers as drivers_science
from .science import spc as spc_science
from .science.prepare import unit_table

UNIT = "unit"
# The metrics the pages offer first (canonical names, DESIGN.md), in this order.
PREFERRED_METRICS = ["eqe_max", "luminance_max", "t50", "eqe_at_100_ma_cm2", "current_efficiency_max",
                     "power_efficacy_max", "turn_on_voltage", "t50_at_100_cd", "plqy", "pl_peak_wavelength"]
# Metrics the home page watches for new out-of-control points.
WATCHED_METRICS = ["eqe_max", "luminance_max", "t50"]
NEW_POINT_DAYS = 14
# The pages chart, fit and plan on the units made by the newest runs of each version of the recipe
# (a window, said on the page), not on a decade of them: the family of a busy recipe is 40k devices
# and the frame, lineage and statistics grow with it (issue 15). 0 = every run.
WINDOW_RUNS = getattr(settings, "LEDGER_INSIGHTS_WINDOW_RUNS", 40)
ID_COLUMNS = [UNIT, "sample_id", "pixel", "project"]


@dataclass
class Column:
    """A non-metric column of the frame and where it comes from."""

    name: str
    kind: str  # "parameter" | "deviation" | "version" | "date" | "lot" | "run"
    recipe_id: int
    recipe: str
    label: str  # for people: "QD-in-matrix film · QD ink drip · QD ink volume [µL]"
    path: str = ""  # "<step>.<key>" for parameters
    unit: str = ""
    short: str = ""  # "QD ink volume [µL]" (the label without the recipe and step)

    @property
    def where(self) -> str:
        return self.label[: -len(self.short)].rstrip(" ·") if self.short and self.label.endswith(self.short) else self.recipe


@dataclass
class InsightsData:
    rows: pd.DataFrame  # one per pixel (devices) or per sample
    metrics: list[str]
    metric_units: dict[str, str]
    columns: dict[str, Column]
    recipe: Recipe | None = None
    newest: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)  # (unit, metric) → newest metric row
    urls: dict[str, str] = field(default_factory=dict)  # unit → sample page
    window: RunWindow | None = None  # which of the recipe's runs the rows come from
    # What is computed from these rows alone (the driver table, its plots) is cached with this
    # digest of the rows and their columns (``family_data``), so it is computed again only when they
    # change, not when a metric of another family arrives (``cached_derived``) ...
    cache_key: str = ""
    slot: str = ""  # ... beside the rows' own cache entry

    def parameter_columns(self, kinds=("parameter", "deviation", "version", "lot")) -> list[str]:
        return [c for c, col in self.columns.items() if col.kind in kinds]

    def clusters(self) -> dict[str, str]:
        """parameter column → the column of the run it came from (its recipe's run label)."""
        runs = {col.recipe_id: c for c, col in self.columns.items() if col.kind == "run"}
        return {c: runs[col.recipe_id] for c, col in self.columns.items()
                if col.kind in ("parameter", "deviation", "version", "lot") and col.recipe_id in runs}

    def recipe_column(self, kind: str, recipe_id: int | None = None) -> str | None:
        recipe_id = recipe_id or (self.recipe.pk if self.recipe else None)
        return next((c for c, col in self.columns.items() if col.kind == kind and col.recipe_id == recipe_id), None)

    def lot_columns(self) -> list[str]:
        return [c for c, col in self.columns.items() if col.kind == "lot" and self.rows[c].nunique() > 1]

    def label(self, column: str) -> str:
        col = self.columns.get(column)
        return col.label if col else column


@dataclass
class RunWindow:
    """The runs of the recipe whose family the rows are: the newest ``per_version`` of each version."""

    per_version: int  # 0 = every run
    runs: int  # measured runs in the window
    total: int  # measured runs of the recipe the user may see

    @property
    def partial(self) -> bool:
        return self.runs < self.total


def window_run_ids(recipe: Recipe, user, per_version: int) -> tuple[list[int], RunWindow]:
    """The ids of the newest ``per_version`` measured runs of each version of ``recipe`` (by run
    date, as the charts order them; every run when 0), and how many measured runs there are in all
    (2 queries). Measured: a sample it made, or one made from those, has metrics
    (``ProcessRun.first_measured_at``, set by the pipeline) — the newest runs are often not."""
    runs = restrict(ProcessRun.objects.filter(recipe_version__recipe=recipe), user)
    total = runs.filter(first_measured_at__isnull=False).count() if per_version else 0
    if not per_version or total <= per_version:
        ids = list(runs.values_list("pk", flat=True))
        return ids, RunWindow(per_version, total, total)
    when = Coalesce("planned_date", TruncDate(Coalesce("finished_at", "created_at"), tzinfo=dt.UTC))
    ranked = runs.filter(first_measured_at__isnull=False).annotate(
        rank=Window(RowNumber(), partition_by=[F("recipe_version_id")],
                    order_by=[when.desc(), F("created_at").desc(), F("pk").desc()]))
    ids = list(ranked.filter(rank__lte=per_version).values_list("pk", flat=True))
    return ids, RunWindow(per_version, len(ids), total)


def recipe_choices(user) -> list[Recipe]:
    """Recipes whose runs made something, most versions first (the process-development ones);
    each with ``n_versions`` and ``n_runs`` (every version, every run of the lab).

    Counted per version from the runs' ``recipe_version`` index (an index-only scan, a dozen
    groups) and summed here: the two ``COUNT(DISTINCT …)`` over recipes × versions × runs sorted
    all 30k runs of a decade on every insights page, twice (45–60 ms each)."""
    runs_of_version = dict(ProcessRun.objects.order_by().values_list("recipe_version_id")
                           .annotate(n=Count("*")).values_list("recipe_version_id", "n"))
    versions: dict[int, int] = {}
    runs: dict[int, int] = {}
    for version_id, recipe_id in RecipeVersion.objects.order_by().values_list("pk", "recipe_id"):
        versions[recipe_id] = versions.get(recipe_id, 0) + 1
        runs[recipe_id] = runs.get(recipe_id, 0) + runs_of_version.get(version_id, 0)
    recipes = list(restrict(Recipe.objects.filter(pk__in=[pk for pk, n in runs.items() if n > 0]), user))
    for recipe in recipes:
        recipe.n_versions, recipe.n_runs = versions[recipe.pk], runs[recipe.pk]
    return sorted(recipes, key=lambda r: (-r.n_versions, -r.n_runs, r.name))


def default_recipe(user) -> Recipe | None:
    choices = recipe_choices(user)
    return choices[0] if choices else None


def project_choices(user) -> list[Project]:
    return list(restrict(Project.objects.all(), user).order_by("code"))


def family_sample_ids(recipe: Recipe, user, project: Project | None = None, *,
                      run_ids: list[int] | None = None) -> list[int]:
    """The samples made by a run of ``recipe`` (any version; of ``run_ids`` only, if given) and
    everything made from them."""
    made = Sample.objects.filter(produced_by_id__any_of=run_ids) if run_ids is not None else \
        Sample.objects.filter(produced_by__recipe_version__recipe=recipe)
    made_ids = list(restrict(made, user).values_list("pk", flat=True))
    ids = set(made_ids) | descendant_ids_by_level(made_ids)
    qs = restrict(Sample.objects.filter(pk__any_of=sorted(ids)), user)
    if project is not None:
        qs = qs.filter(project=project)
    return sorted(qs.values_list("pk", flat=True))


def _family(recipe: Recipe, user, run_ids: list[int] | None) -> list[int]:
    """The family's ids, unrestricted below the seeds (the metric query restricts them)."""
    made = Sample.objects.filter(produced_by_id__any_of=run_ids) if run_ids is not None else \
        Sample.objects.filter(produced_by__recipe_version__recipe=recipe)
    made_ids = list(restrict(made, user).values_list("pk", flat=True))
    return sorted(set(made_ids) | descendant_ids_by_level(made_ids))


def _metric_rows(sample_ids, user, metrics: list[str] | None, project: Project | None = None):
    """(sample id, label, project code, pixel id, pixel label, scope, name, value, unit, created)
    of the current per-pixel/per-sample values of the visible ``sample_ids``. Three single-table
    queries rather than one join: the join's estimate (thousands of ids) hashed every pixel."""
    samples = restrict(Sample.objects.filter(pk__any_of=sorted(set(sample_ids))), user)
    if project is not None:
        samples = samples.filter(project=project)
    labels = {pk: (label, code) for pk, label, code in samples.values_list("pk", "label", "project__code")}
    if not labels:
        return []
    qs = (DerivedMetric.objects.current().filter(sample_id__any_of=sorted(labels), aggregate=Aggregate.VALUE)
          .values_list("sample_id", "pixel_id", "scope", "name", "value", "unit", "created_at")
          .order_by("sample_id", "pixel_id", "name", "-created_at"))
    if metrics:
        qs = qs.filter(name__in=metrics)
    rows = list(qs)
    pixels = dict(Pixel.objects.filter(pk__any_of=sorted({r[1] for r in rows if r[1] is not None}))
                  .values_list("pk", "label"))
    return [(sid, *labels[sid], pixel_id, pixels.get(pixel_id), scope, name, value, unit, created)
            for sid, pixel_id, scope, name, value, unit, created in rows]


def _parameter_labels(recipe_ids: set[int]) -> dict[tuple[int, str], tuple[str, str]]:
    """(recipe id, "<step>.<key>") → (step name, parameter name), newest version's wording."""
    rows = (RecipeParameter.objects.filter(step__version__recipe_id__in=recipe_ids)
            .values_list("step__version__recipe_id", "step__order", "key", "step__name", "name", "step__version__number")
            .order_by("step__version__number"))
    return {(rid, f"{order}.{key}"): (step, name) for rid, order, key, step, name, _ in rows}


def insights_data(user, *, recipe: Recipe | None = None, sample_ids: list[int] | None = None,
                  project: Project | None = None, metrics: list[str] | None = None,
                  window: int | None = None, parameters: bool = True) -> InsightsData:
    """The measured rows of ``recipe``'s family (or of ``sample_ids``) with their lineage columns.

    With a recipe, the family of the newest ``window`` runs of each of its versions (``WINDOW_RUNS``
    when None, every run when 0): a unit is kept when the nearest run of the recipe in its lineage
    is one of them, so a version's chart holds exactly the units its newest runs made.
    ``parameters=False`` leaves out the runs' parameter columns (the control charts need only the
    versions, dates and lots)."""
    in_window: set[int] | None = None
    run_window = None
    if sample_ids is None and recipe:
        window_ids, run_window = window_run_ids(recipe, user, WINDOW_RUNS if window is None else window)
        in_window = set(window_ids) if run_window.partial else None
        metric_rows = _metric_rows(_family(recipe, user, window_ids if in_window is not None else None), user,
                                   metrics, project)
    else:
        metric_rows = _metric_rows(sample_ids or [], user, metrics)
    rows: dict[tuple[int, int | None], dict[str, Any]] = {}
    device_values: dict[int, dict[str, float]] = {}  # device-scope values (t50_at_100_cd) for its pixel rows
    metric_units: dict[str, str] = {}
    newest: dict[tuple[str, str], dt.datetime] = {}
    labels: dict[int, str] = {}
    for sid, slabel, project_code, pixel_id, pixel_label, scope, name, value, unit, created in metric_rows:
        labels[sid] = slabel
        metric_units.setdefault(name, unit)
        key = (slabel, name)
        newest[key] = max(newest.get(key, created), created)
        if pixel_id is None and scope == "device":
            device_values.setdefault(sid, {}).setdefault(name, value)
            continue
        row = rows.setdefault((sid, pixel_id), {UNIT: slabel, "sample_id": sid, "pixel": pixel_label,
                                               "project": project_code})
        row.setdefault(name, value)  # newest first within a name
    for sid, values in device_values.items():
        targets = [r for (s, _), r in rows.items() if s == sid]
        if not targets:
            first = next(m for m in metric_rows if m[0] == sid)
            targets = [rows.setdefault((sid, None), {UNIT: first[1], "sample_id": sid, "pixel": None, "project": first[2]})]
        for r in targets:
            for name, value in values.items():
                r.setdefault(name, value)
    ordered_metrics = sorted(metric_units, key=lambda m: (PREFERRED_METRICS.index(m) if m in PREFERRED_METRICS
                                                         else len(PREFERRED_METRICS), m))
    measured = sorted({r["sample_id"] for r in rows.values()})
    runs_of = lineage_run_ids(measured, user)
    run_ids = {r for ids in runs_of.values() for r in ids}
    runs = {r[0]: r for r in ProcessRun.objects.filter(pk__any_of=sorted(run_ids)).order_by("-created_at").values_list(
        "pk", "label", "recipe_version__number", "recipe_version__recipe_id", "recipe_version__recipe__name",
        "planned_date", "finished_at", "created_at")}
    lots_of: dict[int, list[tuple[str, str]]] = {}
    for run_id, number, abbreviation, formula, name in (
            ProcessRun.lots.through.objects.filter(processrun_id__any_of=sorted(run_ids))
            .order_by("chemicallot__chemical__name", "-chemicallot__received_on")
            .values_list("processrun_id", "chemicallot__lot_number", "chemicallot__chemical__abbreviation",
                         "chemicallot__chemical__formula", "chemicallot__chemical__name")):
        lots_of.setdefault(run_id, []).append((abbreviation or formula or name, number))  # Chemical.short
    params = run_parameters(run_ids) if parameters else {}
    names = _parameter_labels({r[3] for r in runs.values()}) if parameters else {}
    columns: dict[str, Column] = {}
    per_run: dict[int, dict[str, Any]] = {}
    deviating: set[str] = set()
    for run_id, (_, run_label, version_number, rec_pk, rec_name, planned, finished, created) in runs.items():
        values: dict[str, Any] = {}
        version_col, date_col = f"{rec_name} · version", f"{rec_name} · run date"
        columns.setdefault(version_col, Column(version_col, "version", rec_pk, rec_name, f"{rec_name} · recipe version",
                                               short="recipe version"))
        columns.setdefault(date_col, Column(date_col, "date", rec_pk, rec_name, f"{rec_name} · run date", short="run date"))
        run_col = f"{rec_name} · run"
        columns.setdefault(run_col, Column(run_col, "run", rec_pk, rec_name, f"{rec_name} · run", short="run"))
        values[run_col] = run_label
        values[version_col] = f"v{version_number}"
        values[date_col] = planned or (finished or created).date()
        for short, lot_number in lots_of.get(run_id, []):
            lot_col = f"{rec_name} · lot {short}"
            columns.setdefault(lot_col, Column(lot_col, "lot", rec_pk, rec_name, f"{rec_name} · {short} lot",
                                               short=f"{short} lot"))
            values[lot_col] = lot_number
        for p in params.get(run_id, []):
            if isinstance(p.value, str):
                continue  # text settings ("0.45 µm PTFE") are not a measured quantity
            step, pname = names.get((rec_pk, p.path), ("", p.path))
            unit = f" [{p.unit}]" if p.unit else ""
            columns.setdefault(p.column, Column(p.column, "parameter", rec_pk, rec_name, f"{rec_name} · {step} · {pname}{unit}",
                                                path=p.path, unit=p.unit, short=f"{pname}{unit}"))
            values[p.column] = p.value
            dev_col = f"{p.column} out of range"
            values[dev_col] = "yes" if p.is_deviation else "no"
            if p.is_deviation:
                deviating.add(dev_col)
                columns.setdefault(dev_col, Column(dev_col, "deviation", rec_pk, rec_name,
                                                   f"{rec_name} · {step} · {pname} outside its range", path=p.path,
                                                   short=f"{pname} outside its range"))
        per_run[run_id] = values
    if in_window is not None:  # the unit's nearest run of the recipe must be in the window
        def nearest(sid: int) -> int | None:
            return next((r for r in runs_of.get(sid, []) if runs[r][3] == recipe.pk), None)

        rows = {key: row for key, row in rows.items() if nearest(row["sample_id"]) in in_window}
    # Each run's columns sorted out once, not once per unit it made: an "out of range" column only
    # where some run of the family deviated.
    kept = {run_id: [(column, value) for column, value in values.items()
                     if not (column.endswith(" out of range") and column not in deviating)]
            for run_id, values in per_run.items()}
    for row in rows.values():
        for run_id in runs_of.get(row["sample_id"], []):
            for column, value in kept.get(run_id, ()):
                row.setdefault(column, value)  # nearest run of a recipe wins
    ordered_columns = ID_COLUMNS + ordered_metrics + list(columns)
    frame = pd.DataFrame([[r.get(c) for c in ordered_columns] for r in rows.values()], columns=ordered_columns)
    urls = {label: Sample(label=label).get_absolute_url() for label in labels.values()}
    return InsightsData(rows=frame, metrics=ordered_metrics, metric_units=metric_units, columns=columns, recipe=recipe,
                        newest=newest, urls=urls, window=run_window)


# --- what the pages show -----------------------------------------------------------------------

def drivers_for(data: InsightsData, metrics: list[str]) -> drivers_science.DriverTable:
    return drivers_science.analyse(data.rows, metrics=metrics, parameters=data.parameter_columns(), unit=UNIT,
                                   clusters=data.clusters())


def _values_stamp() -> str:
    """``_stamp`` and the run values' history (every actual logged or edited adds a row)."""
    return _stamp(values=True)


def family_data(user, *, recipe: Recipe | None, project: Project | None = None) -> InsightsData:
    """``insights_data`` with every parameter column (drivers, their plots), cached like
    ``control_data`` but also until a run value changes."""
    if recipe is None:
        return insights_data(user, recipe=None, project=project)
    slot, stamp = _family_slot(user, recipe, project), _values_stamp()
    data = _stamped_get(slot, stamp)
    if data is None:
        data = insights_data(user, recipe=recipe, project=project)
        data.cache_key, data.slot = content_key(data), slot
        _stamped_set(slot, stamp, data)
    return data


def family_if_cached(user, recipe: Recipe, project: Project | None) -> InsightsData | None:
    """``family_data`` when it would come from the cache now, else None (reads the cache only)."""
    return _stamped_get(_family_slot(user, recipe, project), _values_stamp())


def _family_slot(user, recipe: Recipe, project: Project | None) -> str:
    return f"insights:family:{visibility_key(user)}:{recipe.pk}:{project.pk if project else ''}:{WINDOW_RUNS}"


# Insights caches hold one entry per page and set of projects seen (a "slot"), with the stamp or
# content digest it was computed at: a read whose stamp differs is a miss and the write replaces the
# entry, so what is cached is bounded by the pages people open, not by how often the lab measures,
# and an entry can live a day (a page the worker drew last night is still drawn in the morning).
INSIGHTS_CACHE_S = 24 * 3600


def _stamped_get(slot: str, stamp: str):
    hit = cache.get(slot)
    return hit[1] if isinstance(hit, tuple) and len(hit) == 2 and hit[0] == stamp else None


def _stamped_set(slot: str, stamp: str, value) -> None:
    cache.set(slot, (stamp, value), INSIGHTS_CACHE_S)


def content_key(data: InsightsData) -> str:
    """A key for what is computed from ``data`` alone: a digest of its rows, columns and units.

    The rows are read again whenever anything in the lab changes (the stamp), but a driver table
    is only worth computing again when they come out different: a file measured for another recipe
    leaves this family's table and plots in the cache. The digest is of the pickled objects, so equal
    bytes are equal content (rows that differ never share a key; rows built differently at worst
    miss), and people who see the same rows share the entry — the key says nothing they cannot see."""
    content = pickle.dumps((data.recipe.pk if data.recipe else None, data.rows, data.metrics, data.metric_units,
                            data.columns), protocol=pickle.HIGHEST_PROTOCOL)
    return f"insights:derived:{hashlib.blake2b(content, digest_size=16).hexdigest()}"


def derived_if_cached(data: InsightsData, what: str):
    """``cached_derived``'s value of ``what`` when it is in the cache for these rows, else None."""
    return _stamped_get(f"{data.slot}:{what}", data.cache_key) if data.cache_key else None


def cached_derived(data: InsightsData, what: str, build):
    """``build()``, cached beside ``data``'s rows and kept while their content (``content_key``: the
    same rows, columns and units) stays the same; built every time when the rows themselves are not
    cached (no recipe)."""
    value = derived_if_cached(data, what)
    if value is None:
        value = build()
        if data.cache_key:
            _stamped_set(f"{data.slot}:{what}", data.cache_key, value)
    return value


def drivers_table(data: InsightsData, metrics: list[str]) -> drivers_science.DriverTable:
    """``drivers_for`` on ``family_data``'s frame, cached with it (no stamp queries of its own)."""
    return cached_derived(data, f"drivers:{','.join(metrics)}", lambda: drivers_for(data, metrics))


def drivers_export_frame(data: InsightsData, table: drivers_science.DriverTable) -> pd.DataFrame:
    frame = table.to_frame()
    frame.insert(3, "parameter_label", [data.label(p) for p in frame["parameter"]])
    frame.insert(2, "metric_unit", [data.metric_units.get(m, "") for m in frame["metric"]])
    return frame


@dataclass
class ControlView:
    metric: str
    unit: str
    charts: list[spc_science.Chart]
    lots: dict[str, list[spc_science.LotSummary]]  # lot column → summaries
    version_column: str | None
    date_column: str | None
    warnings: list[str]


def control_charts(data: InsightsData, metric: str, *, sigma: str = "average_mr") -> ControlView:
    """I-MR charts of ``metric`` per version of the family's recipe, in run-date order, and the lots."""
    version_col, date_col = data.recipe_column("version"), data.recipe_column("date")
    lot_cols = data.lot_columns()
    warnings: list[str] = []
    if metric not in data.rows.columns or version_col is None:
        return ControlView(metric, data.metric_units.get(metric, ""), [], {}, version_col, date_col,
                           [f"no {metric} measured on this recipe's samples"])
    table = unit_table(data.rows, metrics=[metric], parameters=[], unit=UNIT,
                       extra=[version_col, date_col, *lot_cols, "sample_id"])
    warnings += table.warnings
    units = table.units.reset_index()
    charts = spc_science.charts_by_group(units, metric=metric, group=version_col, date=date_col, label=UNIT, sigma=sigma)
    for c in charts:
        warnings += c.warnings
    lots = {}
    for col in lot_cols:
        mapping = {u: v for u, v in zip(units[UNIT], units[col], strict=True) if pd.notna(v)}
        lots[col] = spc_science.by_lot(charts, mapping)
    return ControlView(metric, data.metric_units.get(metric, ""), charts, lots, version_col, date_col, warnings)


def _stamp(*, values: bool = False) -> str:
    """Changes whenever what an insights page reads may have: a metric stored; a sample, lineage
    link or run lot added; a run edited; and any saved edit of a sample (its project, its run), a
    lineage link, a project, a recipe, version, step or parameter (their names label the columns) or
    a lot — those through their history tables, so an admin's edit in place is seen at once, not
    when the entry expires (a day). One query of index-only MAXes (the runs' ``updated_at`` aside)."""
    maxes = [(DerivedMetric, "id"), (Sample, "id"), (Sample.parents.through, "id"), (ProcessRun.lots.through, "id"),
             (ProcessRun, "updated_at"), *((m.history.model, "history_id") for m in _HISTORIED)]
    if values:
        maxes.append((RunValue.history.model, "history_id"))
    sql = "SELECT " + ", ".join(f"(SELECT MAX({connection.ops.quote_name(column)}) FROM "
                                f"{connection.ops.quote_name(model._meta.db_table)})" for model, column in maxes)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return ":".join(str(v or 0) for v in row)


# Edited in place (no new id), and what the family rows show depends on them.
_HISTORIED = (Sample, SampleParent, Project, Recipe, RecipeVersion, RecipeStep, RecipeParameter, Chemical, ChemicalLot)


def _ooc_key(visible: str, recipe: Recipe) -> str:
    return f"insights:ooc:{visible}:{recipe.pk}"


def control_data(user, *, recipe: Recipe | None, project: Project | None = None,
                 metrics: list[str] | None = None) -> InsightsData:
    """``insights_data`` without parameter columns, for the control charts (page and recipe panel),
    cached until the stamp changes (at most ``INSIGHTS_CACHE_S``): what a chart shows is recomputed
    from the rows whenever anything it reads changed."""
    if recipe is None:
        return insights_data(user, recipe=None, project=project, metrics=metrics, parameters=False)
    slot = (f"insights:control:{visibility_key(user)}:{recipe.pk}:{project.pk if project else ''}:"
            f"{','.join(metrics or [])}:{WINDOW_RUNS}")
    stamp = _stamp()
    data = _stamped_get(slot, stamp)
    if data is None:
        data = insights_data(user, recipe=recipe, project=project, metrics=metrics, parameters=False)
        _stamped_set(slot, stamp, data)
    return data


def _recipes_with_metrics_since(since: dt.datetime, metrics: list[str]) -> set[int]:
    """Ids of the recipes whose family (a sample a run of theirs made, or one made from it) holds a
    current ``metrics`` row stored since ``since``: the recent rows (``metric_name_created``), their
    samples and those samples' ancestors, and the recipes of the runs that made them (3 queries plus
    the ancestor walk). Unrestricted — a superset of what a user's charts can say arrived since."""
    sample_ids = set(DerivedMetric.objects.current().filter(name__in=metrics, created_at__gte=since)
                     .values_list("sample_id", flat=True).distinct())
    if not sample_ids:
        return set()
    ids = sample_ids | ancestor_ids(sorted(sample_ids))
    return set(Sample.objects.filter(pk__any_of=sorted(ids), produced_by__isnull=False)
               .values_list("produced_by__recipe_version__recipe_id", flat=True).distinct())


def new_out_of_control_points(user, *, days: int = NEW_POINT_DAYS, limit: int = 10) -> list[dict[str, Any]]:
    """Out-of-control points whose metric arrived in the last ``days`` (for the home page), over the
    watched metrics of every recipe with more than one version. Cached until a metric or run changes."""
    out: list[dict[str, Any]] = []
    since = timezone.now() - dt.timedelta(days=days)
    stamp = _stamp()  # once for every recipe
    # Only recipes a metric that arrived since could belong to: the others can show no point, and
    # their control charts were the cold home page's seconds at a decade's scale (issue 15).
    # Cached with the stamp (a new metric changes it); computed from an earlier ``since`` it is a
    # superset of the set now, so a cached one never hides a recipe.
    recent_key = f"insights:recent:{days}"
    recent = _stamped_get(recent_key, stamp)
    if recent is None:
        recent = _recipes_with_metrics_since(since, WATCHED_METRICS)
        _stamped_set(recent_key, stamp, recent)
    visible = visibility_key(user) if recent else ""
    for recipe in [r for r in recipe_choices(user) if r.n_versions > 1 and r.pk in recent]:
        key = _ooc_key(visible, recipe)
        points = _stamped_get(key, stamp)
        if points is None:
            data = control_data(user, recipe=recipe, metrics=WATCHED_METRICS)
            points = []
            for metric in [m for m in WATCHED_METRICS if m in data.metrics]:
                view = control_charts(data, metric)
                for chart in view.charts:
                    for p in chart.out_of_control:
                        points.append({"recipe": recipe.name, "recipe_id": recipe.pk, "version": chart.group,
                                       "metric": metric, "unit": view.unit, "label": p.label, "date": p.date,
                                       "value": p.value, "rules": p.rules, "url": data.urls.get(p.label, ""),
                                       "arrived": data.newest.get((p.label, metric)),
                                       "side": "high" if p.value > chart.centre else "low"})
            _stamped_set(key, stamp, points)
        out += [p for p in points if p["arrived"] and p["arrived"] >= since]
    out.sort(key=lambda p: (p["arrived"], p["label"]), reverse=True)
    return out[:limit]


# --- design of experiments ---------------------------------------------------------------------

@dataclass
class SpaceParameter:
    path: str
    name: str
    step: str
    unit: str
    low: float
    high: float
    nominal: float | None
    column: str  # the frame's column for this parameter

    @property
    def decimals(self) -> int:
        import math

        span = self.high - self.low
        return max(0, 2 - int(math.floor(math.log10(span)))) if span > 0 else 2


def version_space(version: RecipeVersion) -> list[SpaceParameter]:
    """A version's numeric settings and amounts that have a min–max range (expected outcomes excluded)."""
    params = (RecipeParameter.objects.filter(step__version=version, value_type=RecipeParameter.ValueType.NUMBER,
                                             min_value__isnull=False, max_value__isnull=False)
              .exclude(role=RecipeParameter.Role.OUTCOME).select_related("step").order_by("step__order", "order"))
    recipe = version.recipe.name
    out = []
    for p in params:
        if p.max_value <= p.min_value:
            continue
        unit = f" [{p.unit}]" if p.unit else ""
        out.append(SpaceParameter(f"{p.step.order}.{p.key}", p.name, p.step.name, p.unit, p.min_value, p.max_value,
                                  p.nominal, f"{recipe} · {p.step.order}.{p.key}{unit}"))
    return out


def doe_history(data: InsightsData, space: list[SpaceParameter], *, version: RecipeVersion | None = None) -> pd.DataFrame:
    """One row per unit: its median metrics and its value of each space parameter (NaN if absent)."""
    version_col = data.recipe_column("version")
    present = [p.column for p in space if p.column in data.rows.columns]
    table = unit_table(data.rows, metrics=data.metrics, parameters=present, unit=UNIT,
                       extra=[version_col] if version_col else [])
    units = table.units.reset_index()
    for p in space:
        if p.column not in units.columns:
            units[p.column] = float("nan")
    if version is not None and version_col:
        units = units[units[version_col] == f"v{version.number}"]
    return units


@dataclass
class Proposal:
    values: dict[str, float]  # "<step>.<key>" → value (rounded to the parameter's resolution)
    predicted: float | None
    predicted_std: float | None
    metrics: dict[str, tuple[float, float]]  # eqe_max/t50 → (mean, std) at this proposal


@dataclass
class ProposalView:
    proposals: list[Proposal]
    space: list[SpaceParameter]
    fixed: dict[str, float]
    target: str
    target_label: str
    n_history: int
    best_so_far: float | None
    warnings: list[str]
    method: str
    note: str  # goes on each planned run


def _round(value: float, p: SpaceParameter) -> float:
    return float(min(max(round(float(value), p.decimals), p.low), p.high))


def propose(user, *, version: RecipeVersion, objective: str, weight: float | None, q: int, scope: str,
            project: Project | None, seed: int | None, space_items: list[dict], space: list[SpaceParameter]) -> ProposalView:
    """The next batch for ``version`` (doe.suggest on the family's history). Raises ValueError with
    a message for people when there is nothing to learn from or the target is missing."""
    from .science import doe

    data = insights_data(user, recipe=version.recipe, project=project)
    history = doe_history(data, space, version=version if scope == "version" else None)
    target, label = objective, objective
    if objective == "weighted":
        w = 0.5 if weight is None else float(weight)
        missing = [m for m in ("eqe_max", "t50") if m not in history.columns]
        if missing:
            raise ValueError(f"no {' or '.join(missing)} measured on this recipe's samples: the weighted objective needs both")
        history["__score"] = doe.weighted_objective(history, {"eqe_max": w, "t50": 1 - w}, log=("t50",))
        target, label = "__score", f"{w:g}·z(eqe_max) + {1 - w:g}·z(ln t50)"
    elif objective not in history.columns:
        raise ValueError(f"no {objective} measured on the samples of {version.recipe.name}")
    result = doe.suggest(history, space_items, target, q, maximize=True, seed=seed)
    columns = [p.column for p in space]
    points = result[columns]
    metric_predictions = {}
    for metric in ("eqe_max", "t50"):
        if metric in history.columns and history[metric].notna().sum() >= 2:
            metric_predictions[metric] = doe.predict(history, space_items, metric, points, seed=seed)
    proposals = []
    for k in range(len(result)):
        values = {p.path: _round(result.iloc[k][p.column], p) for p in space}
        predicted = result.iloc[k]["predicted"]
        proposals.append(Proposal(values, None if pd.isna(predicted) else float(predicted),
                                  None if pd.isna(result.iloc[k]["predicted_std"]) else float(result.iloc[k]["predicted_std"]),
                                  {m: (float(f.iloc[k]["predicted"]), float(f.iloc[k]["predicted_std"]))
                                   for m, f in metric_predictions.items() if pd.notna(f.iloc[k]["predicted"])}))
    fixed = {p.path: item["value"] for p, item in zip(space, space_items, strict=True) if "value" in item}
    best = float(pd.to_numeric(history[target], errors="coerce").max()) if target in history else None
    unit = metric_units_of(data, objective)
    note = (f"Predicted {label} {proposals[0].predicted:.3g} ± {proposals[0].predicted_std:.2g}{unit} for the first; "
            f"GP + expected improvement (kriging believer) on {int(result.attrs.get('n_history', 0))} past devices."
            if proposals and proposals[0].predicted is not None else "Space-filling first batch (no history).")
    return ProposalView(proposals, space, fixed, target, label, int(result.attrs.get("n_history", 0)), best,
                        list(result.attrs.get("warnings", [])), result.attrs.get("method", ""), note)


def metric_units_of(data: InsightsData, metric: str) -> str:
    unit = data.metric_units.get(metric, "")
    return f" {unit}" if unit else ""


def busiest_project(user, recipe: Recipe) -> Project | None:
    """The visible project with the most runs of ``recipe`` (where its next runs most likely go)."""
    return (restrict(Project.objects.filter(runs__recipe_version__recipe=recipe), user)
            .annotate(n=Count("runs")).order_by("-n", "code").first())
