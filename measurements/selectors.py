"""Reads for the measurement pages: file status for polling, a file's analyses, and the Compare
view's curves, metrics table and parameter-vs-metric scatter. Every entry point takes the user and
narrows with ``restrict`` (or receives querysets already restricted by the caller)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Case, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTransform

from core.access import restrict
from recipes.models import Recipe, RecipeParameter
from samples.models import Project, RunValue, Sample, SampleKind

from .analysis.charts import overlays
from .metric_names import format_metric_value, metric_heading
from .models import Aggregate, Analysis, DerivedMetric, FileStatus, MeasurementFile, MetricScope, Plot

# Headline metrics first; the rest follow alphabetically.
METRIC_ORDER = [
    "eqe_max", "eqe_at_100_ma_cm2", "j_at_eqe_max", "luminance_max", "current_efficiency_max", "power_efficacy_max",
    "turn_on_voltage", "el_peak_wavelength", "el_fwhm", "cie_x", "cie_y", "t50", "t70", "t90", "initial_luminance",
    "lifetime_acceleration_n", "t50_at_100_cd", "pl_peak_wavelength", "pl_peak_energy", "pl_fwhm", "plqy", "tau_avg",
    "d_spacing", "lattice_constant", "crystallite_size",
]
TERMINAL = {FileStatus.DONE, FileStatus.FAILED, FileStatus.STORED}
# Categorical palette (Okabe–Ito plus two), readable for colour-blind users and on a projector.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#332288", "#882255", "#117733", "#999933"]
MAX_COMPARE = 24  # a recipe family can be large; the overlay stops being readable long before this
COMPARE_PICKS = 60  # newest candidates listed on the Compare form


def metric_sort_key(name: str) -> tuple[int, str]:
    return (METRIC_ORDER.index(name), name) if name in METRIC_ORDER else (len(METRIC_ORDER), name)


# --- files and their analyses -----------------------------------------------------------------

def _analyses_prefetch() -> Prefetch:
    # Newest current analysis first; figure names and metric rows come along in two queries for the batch.
    return Prefetch("analyses", queryset=Analysis.objects.filter(superseded=False).order_by("-created_at", "-id")
                    .prefetch_related(_figure_names(), "metrics"), to_attr="current_analyses")


def analysis_metric_rows(analysis: Analysis) -> list[DerivedMetric]:
    """The analysis's own metric rows for its target (not the per-pixel copies of a lifetime fit)."""
    rows = [m for m in analysis.metrics.all() if m.pixel_id == analysis.pixel_id and m.aggregate == Aggregate.VALUE]
    return sorted(rows, key=lambda m: metric_sort_key(m.name))


def files_status(ids: Iterable[int], user) -> list[dict[str, Any]]:
    """What the upload page polls: status, reason, and the current analysis with its metrics."""
    files = (restrict(MeasurementFile.objects.filter(pk__in=list(ids)), user)
             .select_related("sample", "pixel").prefetch_related(_analyses_prefetch()))
    out = []
    for mf in files:
        analysis = mf.current_analyses[0] if mf.current_analyses else None
        waiting_for = (mf.metadata or {}).get("waiting_for", "") if mf.status == FileStatus.DONE else ""
        out.append({
            "file": mf,
            "analysis": analysis,
            "metrics": analysis_metric_rows(analysis) if analysis else [],
            "waiting_for": "" if analysis else waiting_for,
            # A J-L-V sweep is "done" while it waits for its EL spectrum: keep polling until paired.
            "settled": mf.status in TERMINAL and not (waiting_for and analysis is None),
        })
    return out


def file_detail(pk: int, user) -> MeasurementFile:
    qs = restrict(MeasurementFile.objects.all(), user).select_related(
        "sample", "pixel", "instrument", "uploaded_by")
    return qs.get(pk=pk)


def file_analyses(mf: MeasurementFile) -> list[Analysis]:
    """Every analysis that used the file, current first, with metric rows and (for an analysis
    stored before charts, which shows its figure rows as images) its figures' names."""
    return list(mf.analyses.order_by("superseded", "-created_at", "-id")
                .prefetch_related(_figure_names(), "metrics", "sources"))


def _figure_names() -> Prefetch:
    return Prefetch("plots", queryset=Plot.objects.only("id", "analysis_id", "name", "title"))


def analysis_for_figure(pk: int, user) -> Analysis:
    """An analysis the user may see, for its on-demand PNG/SVG (``services.plot_image``)."""
    return restrict(Analysis.objects.all(), user).select_related("sample", "pixel").get(pk=pk)


# --- compare ----------------------------------------------------------------------------------

@dataclass
class Series:
    label: str
    color: str
    x: list[float | None]
    y: list[float | None]
    url: str = ""
    dash: bool = False


@dataclass
class Panel:
    id: str
    title: str
    xlabel: str
    ylabel: str
    xlog: bool = False
    ylog: bool = False
    series: list[Series] = field(default_factory=list)


def compare_candidates(user) -> QuerySet:
    """Samples worth comparing: every device and film, and anything else with current metrics.
    A semi-join (EXISTS), so no DISTINCT; the form validates ticked labels against it, and lists
    only ``compare_pick_list`` (a lab has tens of thousands of candidates)."""
    # A scalar subquery, not EXISTS: beside an OR, PostgreSQL hashes an EXISTS over every current
    # metric row (200k at a decade's scale, 45 ms) to test the 60 newest samples; a LIMIT 1 probe of
    # the (sample, name) index per sample read stops at the first row.
    current = DerivedMetric.objects.filter(sample=OuterRef("pk"), superseded=False).order_by().values("pk")[:1]
    return restrict(Sample.objects.alias(current_metric=Subquery(current))
                    .filter(Q(kind__in=[SampleKind.DEVICE, SampleKind.FILM]) | Q(current_metric__isnull=False)), user)


def compare_pick_list(user, chosen: Iterable[Sample] = ()) -> list[Sample]:
    """What the form lists to tick: the chosen samples, then the newest candidates (one query);
    any other is typed by label into the same field."""
    chosen = list(chosen)
    seen = {s.pk for s in chosen}
    newest = compare_candidates(user).order_by("-created_at", "-id")[:COMPARE_PICKS]
    return chosen + [s for s in newest if s.pk not in seen]


def recipe_family(recipe: Recipe, user) -> QuerySet:
    """Every output of every version of a recipe."""
    return restrict(Sample.objects.filter(produced_by__recipe_version__recipe=recipe), user).order_by("label")


def panel_data(panel: Panel) -> dict[str, Any]:
    """``dataclasses.asdict(panel)`` without its deep copy of every point (the lists are the page's
    own, fresh from the overlays): the same keys in the same order for the chart script."""
    return {"id": panel.id, "title": panel.title, "xlabel": panel.xlabel, "ylabel": panel.ylabel, "xlog": panel.xlog,
            "ylog": panel.ylog, "series": [{"label": s.label, "color": s.color, "x": s.x, "y": s.y, "url": s.url,
                                            "dash": s.dash} for s in panel.series]}


def compare_curves(samples: list[Sample], colors: dict[int, str]) -> list[Panel]:
    """Overlays from the stored curves (``Analysis.overlay``: ``charts.overlays`` of the result's
    arrays, ≤ 150 points a curve): per device its best J-L-V pixel (highest eqe_max), its EL
    spectrum, every lifetime run; per film its PL spectra."""
    panels = {
        "eqe_j": Panel("eqe_j", "EQE vs current density", "J (mA/cm²)", "EQE (%)", xlog=True),
        "jv": Panel("jv", "Current density vs voltage", "V (V)", "J (mA/cm²)", ylog=True),
        "lv": Panel("lv", "Luminance vs voltage", "V (V)", "L (cd/m²)", ylog=True),
        "el": Panel("el", "EL spectra (normalised)", "wavelength (nm)", "EL (norm.)"),
        "lifetime": Panel("lifetime", "Luminance decay L(t)/L0", "t (h)", "L/L0"),
        "pl": Panel("pl", "PL spectra (normalised)", "wavelength (nm)", "PL (norm.)"),
    }
    found = _curve_analyses(samples)
    for s in samples:
        color, mine = colors[s.pk], found.get(s.pk, {})
        url = s.get_absolute_url()
        best = mine.get("jlv")
        if best is not None and "eqe_j" in best.overlay:
            name = best.pixel_label or s.label
            for key in ("eqe_j", "jv", "lv"):
                panels[key].series.append(Series(name, color, *best.overlay[key], url))
        spectrum = mine.get("el")
        if spectrum is not None and "el" in spectrum.overlay:
            panels["el"].series.append(Series(s.label, color, *spectrum.overlay["el"], url))
        found_rest = mine.get("rest", [])
        for a in (a for a in found_rest if a.kind == "lifetime"):
            for k, run in enumerate(a.overlay.get("lifetime", [])):
                label = f"{s.label} · L0 {run['l0']:.0f}" if run["l0"] else s.label
                panels["lifetime"].series.append(Series(label, color, run["x"], run["y"], url, dash=k > 0))
        for a in (a for a in found_rest if a.kind == "pl"):
            for k, (x, y) in enumerate(a.overlay.get("pl", [])):
                panels["pl"].series.append(Series(s.label, color, x, y, url, dash=k > 0))
    return [p for p in panels.values() if p.series]


@dataclass
class _Curve:
    kind: str
    pixel_label: str
    overlay: dict


def _has_curve(overlay_key: str, array: str) -> Case:
    """Whether an analysis can draw ``overlay_key``: its overlay has it, or (stored before overlays)
    its stored arrays have the curve it is made from — the same answer (``charts.overlays``)."""
    return Case(When(overlay__isnull=True, then=Case(When(**{"result__arrays__has_key": array}, then=Value(True)),
                                                        default=Value(False))),
                When(**{"overlay__has_key": overlay_key}, then=Value(True)), default=Value(False))


def _curve_analyses(samples: list[Sample]) -> dict[int, dict[str, Any]]:
    """sample id → {"jlv": its best J-L-V pixel (highest eqe_max, with curves), "el": the spectrum to
    draw (the newest J-L-V with curves, else the newest EL), "rest": lifetime and PL analyses}.

    Two queries: the candidates without their results (eqe_max and whether curves are stored are
    read in the database), then the overlays of the chosen few only (a few kB each; a third query
    thins the stored arrays of analyses stored before overlays existed, to the same curves)."""
    # eqe_max from the analysis's own metric row and the flags from its overlay: neither detoasts
    # the tens of kB of each candidate's result (an analysis without an overlay asks its arrays).
    eqe = DerivedMetric.objects.filter(analysis=OuterRef("pk"), name="eqe_max", aggregate=Aggregate.VALUE).order_by()
    rows = (Analysis.objects.filter(sample__in=samples, superseded=False, kind__in=["jlv", "el", "lifetime", "pl"])
            .annotate(eqe=Subquery(eqe.values("value")[:1]),
                      curves=_has_curve("eqe_j", "eqe_percent"), power=_has_curve("el", "el_power"))
            .values("pk", "sample_id", "kind", "pixel__label", "eqe", "curves", "power")
            .order_by("sample_id", "created_at", "id"))
    by_sample: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_sample[row["sample_id"]].append(row)
    chosen: dict[int, dict[str, Any]] = {}
    for sample_id, found in by_sample.items():
        jlv = [r for r in found if r["kind"] == "jlv" and r["curves"]]
        pick: dict[str, Any] = {"rest": [r for r in found if r["kind"] in ("lifetime", "pl")]}
        if jlv:
            pick["jlv"] = max(jlv, key=lambda r: r["eqe"] or 0)  # first of equals, as before
        spectra = jlv or [r for r in found if r["kind"] == "el"]
        if spectra and spectra[-1]["power"]:
            pick["el"] = spectra[-1]
        chosen[sample_id] = pick
    ids = {r["pk"] for pick in chosen.values() for r in [pick.get("jlv"), pick.get("el"), *pick["rest"]] if r}
    stored = dict(Analysis.objects.filter(pk__in=ids).values_list("pk", "overlay")) if ids else {}
    older = [pk for pk, overlay in stored.items() if overlay is None]
    if older:
        stored.update({pk: overlays(arrays or {}) for pk, arrays in
                       Analysis.objects.filter(pk__in=older).values_list("pk", KeyTransform("arrays", "result"))})

    def curve(r: dict) -> _Curve:
        return _Curve(r["kind"], r["pixel__label"] or "", stored[r["pk"]])

    return {sid: {key: ([curve(r) for r in value] if key == "rest" else curve(value)) for key, value in pick.items()}
            for sid, pick in chosen.items()}


def _preferred(rows: list[DerivedMetric]) -> DerivedMetric:
    # A device's headline is its best pixel; a film's is its own value; the median is the fallback.
    rank = {Aggregate.BEST: 0, Aggregate.VALUE: 1, Aggregate.MEDIAN: 2}
    return min(rows, key=lambda m: rank.get(m.aggregate, 3))


def current_metrics(samples: list[Sample]) -> dict[int, dict[str, DerivedMetric]]:
    """sample id → metric name → the row that stands for the sample (pixel rows are rolled up)."""
    rows = DerivedMetric.objects.filter(sample__in=samples, superseded=False).exclude(scope=MetricScope.PIXEL)
    grouped: dict[tuple[int, str], list[DerivedMetric]] = defaultdict(list)
    for m in rows:
        grouped[(m.sample_id, m.name)].append(m)
    out: dict[int, dict[str, DerivedMetric]] = defaultdict(dict)
    for (sample_id, name), ms in grouped.items():
        out[sample_id][name] = _preferred(ms)
    return out


# The metric that picks a device's best pixel for the Compare table, best first.
HEADLINE_METRICS = ("eqe_max", "luminance_max", "current_efficiency_max", "power_efficacy_max")


def _best_pixel(per_pixel: dict[int, dict[str, DerivedMetric]]) -> tuple[int, str]:
    """The pixel with the highest headline metric (EQE max, else the next one any pixel has), and
    that metric's name; without one, the pixel with the most metrics."""
    for name in HEADLINE_METRICS:
        having = {pk: ms[name].value for pk, ms in per_pixel.items() if name in ms}
        if having:
            return max(having, key=lambda pk: (having[pk], -pk)), name
    return max(per_pixel, key=lambda pk: (len(per_pixel[pk]), -pk)), ""


def metrics_table(samples: list[Sample]) -> tuple[list[str], list[dict[str, Any]], dict[str, str]]:
    """Compare's table. A row is one thing, never a mix (issue 14): a device's best pixel — every
    cell from that one pixel —, then the median over its pixels (when more than one was measured),
    then any device-level values; a film's own values. Each row says which it is (``kind``)."""
    rows_of: dict[int, list[DerivedMetric]] = defaultdict(list)
    # Not the JSON flags/extra: the table shows none of them, and decoding ~50 rows a device was a
    # tenth of the page at 24 devices.
    # Only the fields the table and the traveller read (not the JSON flags/extra, the timestamps,
    # the pixel's own columns): 1,200 rows at 24 devices, and loading what nobody shows was a
    # fifth of the Compare page.
    for m in (DerivedMetric.objects.filter(sample__in=samples, superseded=False).select_related("pixel")
              .only("name", "value", "unit", "uncertainty", "scope", "aggregate", "n_pixels", "sample_id", "pixel_id",
                    "method", "version", "subject", "pixel__label", "pixel__name")
              .order_by("created_at", "id")):
        rows_of[m.sample_id].append(m)
    table: list[dict[str, Any]] = []
    for s in samples:
        ms = rows_of.get(s.pk, [])
        per_pixel: dict[int, dict[str, DerivedMetric]] = defaultdict(dict)
        pixels = {}
        for m in ms:
            if m.scope == MetricScope.PIXEL and m.pixel_id and m.aggregate == Aggregate.VALUE:
                per_pixel[m.pixel_id][m.name] = m  # the latest current row per pixel and name
                pixels[m.pixel_id] = m.pixel
        device_level = [m for m in ms if m.scope != MetricScope.PIXEL]
        if per_pixel:
            pk, by = _best_pixel(per_pixel)
            n = len(per_pixel)
            note = (f"best pixel of {n}, by {by}" if by else f"pixel with the most metrics of {n}") if n > 1 \
                else "the only pixel measured"
            table.append({"sample": s, "kind": "pixel", "title": f"pixel {pixels[pk].label}", "note": note,
                          "metrics": per_pixel[pk], "pixel": pixels[pk], "n_pixels": n, "by": by})
            medians = {m.name: m for m in device_level if m.aggregate == Aggregate.MEDIAN}
            if n > 1 and medians:
                table.append({"sample": s, "kind": "median", "title": f"median of {n} pixels", "note": "",
                              "metrics": medians})
            values = {m.name: m for m in device_level if m.aggregate == Aggregate.VALUE}
            if values:
                table.append({"sample": s, "kind": "device", "title": "device level", "note": "", "metrics": values})
        else:
            grouped: dict[str, list[DerivedMetric]] = defaultdict(list)
            for m in device_level:
                grouped[m.name].append(m)
            table.append({"sample": s, "kind": "value", "title": "", "note": "",
                          "metrics": {name: _preferred(group) for name, group in grouped.items()}})
    names = sorted({n for row in table for n in row["metrics"]}, key=metric_sort_key)
    units = {n: next(row["metrics"][n].unit for row in table if n in row["metrics"]) for n in names}
    for row in table:
        row["cells"] = [row["metrics"].get(n) for n in names]
        # What each cell shows, as plain strings (the template escapes them): the page's 2,000 cells
        # were a third of its time as tags and filters per cell.
        row["shown"] = [_cell(m) if m else ("", "", "") for m in row["cells"]]
    return names, table, units


def _cell(m: DerivedMetric) -> tuple[str, str, str]:
    """(data-metric, title, value) of one Compare cell."""
    if m.pixel_id:
        where = f" · pixel {m.pixel.label}"
    elif m.aggregate == Aggregate.MEDIAN:
        where = f" · median of {m.n_pixels} pixel{'' if m.n_pixels in (1, None) else 's'}"
    else:
        where = ""
    return m.name, f"{m.method} v{m.version}{where}", format_metric_value(m.name, m.value)


# --- parameter vs metric scatter --------------------------------------------------------------

def parameter_choices() -> list[tuple[str, str]]:
    """Numeric recipe parameters, one per (recipe, step, key) across versions: "r<recipe>.<step>.<key>"."""
    rows = (RecipeParameter.objects.filter(value_type=RecipeParameter.ValueType.NUMBER)
            .values_list("step__version__recipe_id", "step__version__recipe__name", "step__order", "step__name",
                         "key", "name", "unit")
            .distinct().order_by("step__version__recipe__name", "step__order", "key"))
    seen, out = set(), []
    for rid, rname, order, sname, key, pname, unit in rows:
        value = f"r{rid}.{order}.{key}"
        if value not in seen:
            seen.add(value)
            out.append((value, f"{rname} · {sname} · {pname}" + (f" ({unit})" if unit else "")))
    return out


def metric_choices(user) -> list[tuple[str, str]]:
    return [(n, metric_heading(n)) for n in sorted(current_metric_names(user), key=metric_sort_key)]


def current_metric_names(user) -> list[str]:
    """The names of the current metrics the user can see, without sorting every current row.

    A loose index scan of ``metric_current_name_value`` (name, value) WHERE NOT superseded gives one
    current row per distinct name (one index probe per name, a few dozen); then, per name, the
    first visible current row (a LIMIT 1 subquery, so PostgreSQL walks that name's index entries
    and stops at the first visible one instead of hashing every current row). Two hundred thousand
    current rows sorted on disk for a select box was the empty Compare form's 12 s (issue 15)."""
    table = connection.ops.quote_name(DerivedMetric._meta.db_table)
    first_per_name = RawSQL(
        f"WITH RECURSIVE names(name) AS ("
        f" SELECT MIN(name) FROM {table} WHERE NOT superseded"
        f" UNION ALL SELECT (SELECT MIN(m.name) FROM {table} m WHERE NOT m.superseded AND m.name > names.name)"
        f" FROM names WHERE names.name IS NOT NULL)"
        f" SELECT (SELECT m.id FROM {table} m WHERE NOT m.superseded AND m.name = names.name LIMIT 1)"
        f" FROM names WHERE names.name IS NOT NULL", [])
    same_name = DerivedMetric.objects.filter(superseded=False, name=OuterRef("name")).order_by()
    projects = Project.objects.all()
    visible_projects = restrict(projects, user)
    if visible_projects is not projects:
        # The row's project as a per-row lookup, so the walk goes down the name's index entries and
        # stops at the first visible one (joined, the planner scans every visible sample instead).
        project = Subquery(Sample.objects.filter(pk=OuterRef("sample_id")).values("project_id")[:1])
        same_name = same_name.annotate(project=project).filter(project__in=visible_projects.values("pk"))
    names = (DerivedMetric.objects.filter(pk__in=first_per_name)
             .annotate(seen=Subquery(same_name.values("pk")[:1])).filter(seen__isnull=False)
             .order_by("name").values_list("name", flat=True))
    return list(names)


def parse_parameter_key(value: str) -> tuple[int, int, str]:
    rid, order, key = value[1:].split(".", 2)
    return int(rid), int(order), key


def scatter(samples: list[Sample], parameter: str, metric: str) -> dict[str, Any]:
    """x = the parameter's actual value (else planned) in the run that made the sample or any
    ancestor; y = the sample's current metric; one colour per recipe version of that run."""
    rid, order, key = parse_parameter_key(parameter)
    runs_of: dict[int, list[int]] = {}
    for s in samples:
        upstream = list(s.ancestors().exclude(produced_by=None).values_list("produced_by_id", flat=True))
        runs_of[s.pk] = [r for r in [s.produced_by_id, *upstream] if r]
    values = (RunValue.objects.filter(run_id__in={r for rs in runs_of.values() for r in rs},
                                      parameter__step__version__recipe_id=rid, parameter__step__order=order,
                                      parameter__key=key)
              .select_related("run__recipe_version", "parameter"))
    by_run = {v.run_id: v for v in values}
    metrics = current_metrics(samples)
    points, unit, versions, missing = [], "", {}, []
    for s in samples:
        rv = next((by_run[r] for r in runs_of[s.pk] if r in by_run), None)
        m = metrics.get(s.pk, {}).get(metric)
        if rv is None or m is None:
            missing.append(s.label)
            continue
        x = rv.actual_in_planned_unit() if rv.actual_value is not None else rv.planned_nominal
        if x is None:
            missing.append(s.label)
            continue
        unit = unit or rv.unit
        version = f"v{rv.run.recipe_version.number}"
        versions.setdefault(version, PALETTE[len(versions) % len(PALETTE)])
        points.append({"label": s.label, "x": x, "y": m.value, "group": version, "color": versions[version],
                       "url": s.get_absolute_url(), "run": rv.run.label, "actual": rv.actual_value is not None})
    label = dict(parameter_choices()).get(parameter, parameter)
    y_unit = next((per[metric].unit for per in metrics.values() if metric in per), "")
    return {"points": points, "xlabel": label, "ylabel": metric_heading(metric, y_unit),
            "groups": versions, "missing": missing, "unit": unit}


def sample_colors(samples: list[Sample]) -> dict[int, str]:
    return {s.pk: PALETTE[i % len(PALETTE)] for i, s in enumerate(samples)}

