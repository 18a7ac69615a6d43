"""Selectors that turn runs and samples into traveller sheets and vial labels.

The renderer (``samples.traveller``) knows nothing of Django; this module and ``portal.travellers``
are the only places that read models for it. Every entry point fetches what it needs with a fixed
number of queries, plus one per run that has something to weigh (the stoichiometry engine reads
that run's amounts itself).

    sheets_for_runs(runs)        → [TravellerSheet], one per run, in the order given
    sheet_for_run(run)           → TravellerSheet
    sheet_for_sample(sample)     → the producing run's sheet headed by the sample
    labels_for_samples(samples)  → [LabelData]

Results (metrics, plots) are measurements', a layer above: a caller that prints them passes
``results_for`` (``portal.travellers`` does, and is what the API and the command call).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db.models import Prefetch
from django.urls import NoReverseMatch

from core.access import restrict
from core.units import UnitError
from recipes.models import RecipeParameter, RecipeStep
from recipes.stoichiometry import format_value, library_from_db

from .models import ProcessRun, RunStatus, RunValue, Sample, SampleKind
from .stoichiometry import run_composition
from .traveller import (
    ChemicalRow,
    Condition,
    LabelData,
    MetricRow,
    ParamRow,
    ParentRef,
    Plot,
    Step,
    TravellerSheet,
    WeighRow,
    WeighTable,
)

# Sample pk → (headline metrics, small plots), for several samples at once (portal.travellers.results_for).
Results = dict[int, tuple[list[MetricRow], list[Plot]]]
ResultsFor = Callable[[list[Sample]], Results]


# --- URLs --------------------------------------------------------------------------------------

def _absolute(obj: Any, fallback_path: str) -> str:
    """SITE_URL + the object's page. QR codes must open the canonical server, not whatever host a
    request came in through. Falls back to the known path when the page's URL name is not routed
    (a test urlconf, or a deployment without the HTML UI)."""
    try:
        path = obj.get_absolute_url()
    except NoReverseMatch:
        path = fallback_path
    return settings.SITE_URL + path


def sample_url(sample: Sample) -> str:
    return _absolute(sample, f"/samples/{quote(sample.label)}/")


def run_url(run: ProcessRun) -> str:
    return _absolute(run, f"/samples/runs/{run.pk}/")


# --- small helpers -----------------------------------------------------------------------------

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_COUNT_AFTER_SYMBOL = re.compile(r"(?<=[A-Za-z)\]])\d+(?:\.\d+)?")


def pretty_formula(text: str) -> str:
    """'PEA2(Cs0.8MA0.2)2Pb3' → 'PEA₂(Cs₀.₈MA₀.₂)₂Pb₃'. Only counts after a symbol or bracket, so
    the 4 of 'Mn(Ac)2·4H2O' and the 2 of '2-Propanol' stay as written."""
    return _COUNT_AFTER_SYMBOL.sub(lambda m: m.group(0).translate(_SUBSCRIPT), text or "")


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _hazards(text: str) -> tuple[str, ...]:
    """'H302 H332 H360Df' or 'Flammable; Toxic' → one entry each (GHS codes never contain spaces)."""
    text = (text or "").strip()
    if not text:
        return ()
    parts = re.split(r"[;,]", text) if re.search(r"[;,]", text) else text.split()
    return tuple(p.strip() for p in parts if p.strip())


def _date(value):
    return value.date() if hasattr(value, "date") else value


# --- runs --------------------------------------------------------------------------------------

def _runs_queryset():
    params = RecipeParameter.objects.select_related("chemical").order_by("order", "id")
    return ProcessRun.objects.select_related("recipe_version__recipe", "project", "operator").prefetch_related(
        Prefetch("recipe_version__steps", queryset=RecipeStep.objects.order_by("order").prefetch_related(
            Prefetch("parameters", queryset=params))),
        Prefetch("values", queryset=RunValue.objects.order_by()),  # matched by parameter_id; order is the recipe's
        "lots__chemical",
        Prefetch("inputs", queryset=Sample.objects.select_related("project").order_by("label")),
        Prefetch("outputs", queryset=Sample.objects.order_by("label")),
    )


def _param_row(param: RecipeParameter, value: RunValue | None) -> ParamRow:
    if value is None:  # a run planned before this parameter existed cannot happen (versions freeze); be safe
        return ParamRow(param.name, param.nominal if param.value_type == "number" else param.text_value,
                        param.unit, param.min_value, param.max_value)
    if param.value_type != RecipeParameter.ValueType.NUMBER:
        return ParamRow(param.name, value.planned_text, "", actual=value.actual_text or None,
                        deviation=value.is_deviation, note=value.note)
    actual: float | str | None = value.actual_text or None
    if value.actual_value is not None:
        try:
            actual = value.actual_in_planned_unit()  # the box prints the planned unit
        except UnitError:
            actual = value.actual_display
    return ParamRow(param.name, value.planned_nominal, value.unit, value.planned_min, value.planned_max,
                    actual=actual, deviation=value.is_deviation, note=value.note)


def _steps(run: ProcessRun) -> list[Step]:
    values = {v.parameter_id: v for v in run.values.all()}
    done = run.status == RunStatus.COMPLETED
    return [Step(step.order, step.name, [_param_row(p, values.get(p.pk)) for p in step.parameters.all()],
                 step.instructions, done)
            for step in run.recipe_version.steps.all()]


def _chemicals(run: ProcessRun, amounts: dict[int, str]) -> list[ChemicalRow]:
    """The run's lots, then the recipe's chemicals no lot was chosen for (lot left blank to fill in)."""
    rows, covered = [], set()
    day = run.planned_date or (run.started_at and run.started_at.date()) or date.today()
    for lot in sorted(run.lots.all(), key=lambda lot: lot.chemical.name):
        chem = lot.chemical
        covered.add(chem.pk)
        rows.append(ChemicalRow(chem.name, pretty_formula(chem.formula), lot.lot_number, lot.supplier,
                                amounts.get(chem.pk, ""), _hazards(chem.hazards),
                                expires=f"{lot.expires_on:%Y-%m-%d}" if lot.expires_on else "",
                                expired=lot.is_expired_on(day)))
    for step in run.recipe_version.steps.all():
        for param in step.parameters.all():
            chem = param.chemical
            if chem is None or chem.pk in covered:
                continue
            covered.add(chem.pk)
            rows.append(ChemicalRow(chem.name, pretty_formula(chem.formula), "", "", amounts.get(chem.pk, ""),
                                    _hazards(chem.hazards)))
    return rows


def _composition_lines(result: dict[str, Any]) -> list[str]:
    """The few numbers a chemist checks against the label: formula, [B] M, halide split, ⟨n⟩.
    Other kinds (Cs-oleate, a QD flask, a ligand dose) print their whole "what is in it"."""
    if result["kind"] != "solution":
        return [f"{row['label']} = {row['value_text']} {row['unit']}".strip() for row in result["contents"]]
    comp = result["composition"] or {}
    lines = [pretty_formula(result["formula"])] if result["formula"] else []
    for row in result["contents"]:
        key = row["key"]
        symbol = key.partition(":")[2]
        if (key.startswith("ion:") and symbol in comp.get("b_site_fractions", {})) or key.startswith("halide:"):
            lines.append(f"{row['label']} = {row['value_text']}" + (" M" if row["unit"] == "M" else ""))
        elif key == "n":
            lines.append(f"⟨n⟩ = {row['value_text']}")
    return lines


def _has_components(run: ProcessRun) -> bool:
    return any(p.role == RecipeParameter.Role.COMPONENT for step in run.recipe_version.steps.all() for p in step.parameters.all())


def _weigh(run: ProcessRun, library) -> tuple[WeighTable | None, dict[int, str], list[str]]:
    """The stoichiometry engine's table at the run's volume, the amount per chemical for the
    chemicals table, and any message the chemist should read on the sheet."""
    if not _has_components(run):
        return None, {}, []
    # run_composition reads the run's values itself: one query per run that weighs something.
    result = run_composition(run, library=library)
    if result is None:
        return None, {}, []
    if result["error"]:
        return None, {}, [f"What to weigh could not be computed: {result['error']}"]
    tolerance_pct = settings.LEDGER_DEFAULT_TOLERANCE * 100  # same judgement as the run's own values
    rows = [WeighRow(pretty_formula(w["reagent"]), w["mmol"], w["mg"], w["molar_mass_g_mol"], w["actual_mg"], tolerance_pct)
            for w in result["weigh"]]
    amounts: dict[int, str] = {}
    for step in run.recipe_version.steps.all():
        for param in step.parameters.all():
            if param.chemical_id is None:
                continue
            for w in result["weigh"]:
                if w["parameter"] == param.name and w["step"] == step.order:
                    mg = f"{w['text']['mg']} mg"
                    # A liquid is dispensed, not weighed: lead with its volume.
                    amounts[param.chemical_id] = f"{w['text']['ul']} µL ({mg})" if w["ul"] is not None else mg
            for s in result["solvents"]:
                if s["parameter"] == param.name and s["ml"] is not None:
                    amounts[param.chemical_id] = f"{format_value(s['ml'], 'mL')} mL"
    table = WeighTable(rows, result["volume_ml"], pretty_formula(result["solvent"]), _composition_lines(result))
    return table, amounts, list(result["warnings"])


def _run_kind(run: ProcessRun) -> str:
    """'makes: Film', plus the state when it is neither planned nor done (an aborted run's sheet)."""
    output = run.recipe_version.recipe.output_kind
    parts = [f"makes: {SampleKind(output).label}" if output in SampleKind.values else ""]
    if run.status not in (RunStatus.PLANNED, RunStatus.COMPLETED):
        parts.append(run.get_status_display())
    return " · ".join(p for p in parts if p)


def _sheet(run: ProcessRun, library, user=None, results=None) -> TravellerSheet:
    recipe = run.recipe_version.recipe
    weigh, amounts, messages = _weigh(run, library)
    parents = list(run.inputs.all())
    if user is not None:
        # Lineage may cross projects; print only the inputs this user may open.
        visible = set(restrict(Sample.objects.filter(pk__in=[p.pk for p in parents]), user).values_list("pk", flat=True))
        hidden = len(parents) - len(visible)
        parents = [p for p in parents if p.pk in visible]
        if hidden:
            messages.append(f"{hidden} input(s) from projects you are not a member of are not listed.")
    completed = run.status == RunStatus.COMPLETED
    metrics, plots = _run_results(run, results) if completed and results is not None else ([], [])
    return TravellerSheet(
        label=run.label,
        url=run_url(run),
        title=recipe.get_step_type_display(),
        recipe_name=recipe.name,
        recipe_version=run.recipe_version.number,
        project=run.project.name,
        planned_date=run.planned_date,
        status="completed" if completed else "planned",
        kind=_run_kind(run),
        operator=_person(run.operator) if completed else "",
        run_date=_date(run.finished_at or run.started_at) if completed else None,
        conditions=[Condition("Glovebox O₂", "ppm", run.glovebox_o2_ppm),
                    Condition("Glovebox H₂O", "ppm", run.glovebox_h2o_ppm)],
        steps=_steps(run),
        chemicals=_chemicals(run, amounts),
        weigh_table=weigh,
        parents=[ParentRef(p.label, p.get_kind_display(), sample_url(p)) for p in parents],
        notes="\n".join(x for x in [run.notes, *messages] if x),
        results=metrics,
        plots=plots,
    )


def sheets_for_runs(runs: Iterable[ProcessRun | int], *, user=None, results_for: ResultsFor | None = None,
                    ) -> list[TravellerSheet]:
    """One sheet per run, in the order given. ``user`` hides inputs from other projects; the
    caller has already checked the runs themselves (``restrict``). A completed run prints its
    outputs' results when ``results_for`` is given."""
    ids = [r.pk if isinstance(r, ProcessRun) else int(r) for r in runs]
    by_id = {run.pk: run for run in _runs_queryset().filter(pk__in=ids)}
    library = library_from_db()  # once per batch, not per run
    results = None
    if results_for is not None:
        outputs = [o for run in by_id.values() if run.status == RunStatus.COMPLETED for o in run.outputs.all()]
        results = results_for(outputs)  # one call for the whole batch
    return [_sheet(by_id[pk], library, user, results) for pk in ids if pk in by_id]


def sheet_for_run(run: ProcessRun, *, request=None, results_for: ResultsFor | None = None) -> TravellerSheet:
    return sheets_for_runs([run], user=getattr(request, "user", None), results_for=results_for)[0]


# --- samples -----------------------------------------------------------------------------------

def _run_results(run: ProcessRun, results: Results) -> tuple[list[MetricRow], list[Plot]]:
    """A completed run prints what its outputs measured: one output's metrics and plots, or for a
    batch each output's metrics under its label (plots would not say which sample they show)."""
    outputs = list(run.outputs.all())
    if len(outputs) == 1:
        return results.get(outputs[0].pk, ([], []))
    rows = [MetricRow(f"{o.label} · {m.name}", m.value, m.unit, label=f"{o.label} · {m.label or m.name}")
            for o in outputs for m in results.get(o.pk, ([], []))[0]]
    return rows, []


def sheet_for_sample(sample: Sample, *, request=None, results_for: ResultsFor | None = None) -> TravellerSheet:
    """The producing run's sheet headed by the sample's label and QR, plus its results when
    ``results_for`` is given."""
    metrics, plots = results_for([sample])[sample.pk] if results_for is not None else ([], [])
    head = dict(label=sample.label, url=sample_url(sample), kind=sample.get_kind_display(), results=metrics, plots=plots)
    if sample.produced_by_id is None:  # bought or made outside LEDger: no steps to print
        parents = list(sample.parents.all())
        return TravellerSheet(title=sample.name, project=sample.project.name,
                              status="completed", parents=[ParentRef(p.label, p.get_kind_display(), sample_url(p)) for p in parents],
                              notes=sample.notes, **head)
    sheet = sheets_for_runs([sample.produced_by_id], user=getattr(request, "user", None), results_for=results_for)[0]
    title = f"{sample.name} · {sheet.label}" if sample.name else f"from {sheet.label}"
    return replace(sheet, title=title, **head)


def labels_for_samples(samples: Iterable[Sample]) -> list[LabelData]:
    samples = list(samples)
    owners = {s.pk: s for s in Sample.objects.filter(pk__in=[s.pk for s in samples]).select_related("owner")}
    return [LabelData(s.label, sample_url(s), s.get_kind_display(), _date(s.created_at), _person(owners[s.pk].owner))
            for s in samples if s.pk in owners]
