"""Writes for runs, samples and lineage."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core import events
from core.models import next_label
from core.units import UnitError, canonical_unit, convert, dimension
from recipes.models import ChemicalLot, RecipeParameter, RecipeVersion
from recipes.stoichiometry import scales_with_batch, version_volume_ml

from .models import LABEL_PREFIX, MAX_RUN_OUTPUTS, ProcessRun, Project, RunStatus, RunValue, Sample, SampleParent

RUN_VALUE_ACTUAL_FIELDS = ["actual_value", "actual_unit", "actual_text", "note", "is_deviation"]


def sample_label_for(kind: str) -> str:
    return next_label(LABEL_PREFIX.get(kind, "S"))


def _planned_nominals(params: list[RecipeParameter], planned: dict[str, float]) -> dict[int, float]:
    """Validate "<step order>.<key>" → value against the version's numeric parameters and ranges."""
    by_path = {f"{p.step.order}.{p.key}": p for p in params}
    out, errors = {}, []
    for path, value in planned.items():
        p = by_path.get(path)
        if p is None or p.value_type != RecipeParameter.ValueType.NUMBER:
            errors.append(f"{path}: not a numeric parameter of this version")
            continue
        if (p.min_value is not None and value < p.min_value) or (p.max_value is not None and value > p.max_value):
            errors.append(f"{p.name} ({path}): {value:g} {p.unit} is outside the recipe's range "
                          f"{p.min_value if p.min_value is not None else '…'}–{p.max_value if p.max_value is not None else '…'}")
            continue
        out[p.pk] = float(value)
    if errors:
        raise ValidationError({"planned": errors})
    return out


@transaction.atomic
def run_plan(*, version: RecipeVersion, project: Project, operator=None, planned_date=None,
             batch_volume_ml: float | None = None, inputs: Iterable[Sample] = (), lots=(), notes: str = "",
             planned: dict[str, float] | None = None, outputs: int = 1, output_kind: str = "",
             output_names: Iterable[str] = (), output_location: str = "") -> ProcessRun:
    """Create a run from a recipe version: copy every planned value, freeze the version.

    ``outputs``/``output_kind``/``output_names``/``output_location`` are what completing the run
    will create; they are stored now and completing the run (``run_complete``) uses them.

    ``planned`` sets the planned value of some numeric parameters for this run ("<step order>.<key>"
    → value, within the recipe's range), e.g. a batch the insights app proposed; the range stays
    the recipe's, so the deviation check is unchanged."""
    params = list(RecipeParameter.objects.filter(step__version=version).select_related("step"))
    nominal_of = _planned_nominals(params, planned) if planned else {}
    scale = batch_scale(version, batch_volume_ml)
    run = ProcessRun(label=next_label("RUN"), recipe_version=version, project=project, operator=operator,
                     planned_date=planned_date, batch_volume_ml=batch_volume_ml, notes=notes, planned_scale=scale,
                     planned_outputs=outputs, planned_output_kind=output_kind or "",
                     planned_output_names=_clean_names(output_names), planned_output_location=output_location or "")
    run.full_clean(exclude=["label"])
    run.save()
    if not version.is_frozen:
        # Frozen from the first use on: later edits make a new version (recipes.services).
        RecipeVersion.objects.filter(pk=version.pk, frozen_at__isnull=True).update(frozen_at=timezone.now())
        version.refresh_from_db(fields=["frozen_at"])
    # One insert for all planned values, with their history rows (a run's values are lab records).
    bulk_create_with_history([
        RunValue(run=run, parameter=p, planned_text=p.text_value, unit=p.unit,
                 **_scaled(p, (nominal_of.get(p.pk, p.nominal), p.min_value, p.max_value), scale))
        for p in params
    ], RunValue)
    if inputs:
        run.inputs.set(inputs)
    if lots:
        run.lots.set(lots)
    return run


def batch_scale(version: RecipeVersion, batch_volume_ml: float | None) -> float:
    """How much bigger this run's batch is than the recipe's own volume (2.0 for 3 mL of a 1.5 mL
    precursor). 1 without a batch volume, or for a recipe that is not made up to a volume."""
    if not batch_volume_ml or batch_volume_ml <= 0:
        return 1.0
    recipe_ml = version_volume_ml(version)
    return batch_volume_ml / recipe_ml if recipe_ml else 1.0


def _scaled(param: RecipeParameter, planned: tuple[float | None, float | None, float | None],
            scale: float) -> dict[str, float | None]:
    """Planned nominal/min/max of a run at ``scale``: amounts scale, settings and concentrations do
    not (``recipes.stoichiometry.scales_with_batch``). The run's planned values ARE these, so
    the page, the deviation check, the weigh table, the traveller and the API agree."""
    factor = scale if scales_with_batch(param.role, param.unit) else 1.0
    return dict(zip(("planned_nominal", "planned_min", "planned_max"),
                    (None if v is None else v * factor for v in planned), strict=True))


def _run_rescale(run: ProcessRun) -> None:
    """The batch volume changed: scale the planned amounts from the old batch to the new one (a
    planned override from insights scales with them) and re-check the logged actuals against them."""
    new = batch_scale(run.recipe_version, run.batch_volume_ml)
    old = run.planned_scale or 1.0
    if new == old:
        return
    changed = []
    for value in run.values.select_related("parameter"):
        if not scales_with_batch(value.parameter.role, value.unit):
            continue
        for field in ("planned_nominal", "planned_min", "planned_max"):
            number = getattr(value, field)
            if number is not None:
                setattr(value, field, number * new / old)
        value.is_deviation = value.compute_deviation(settings.LEDGER_DEFAULT_TOLERANCE)
        changed.append(value)
    if changed:
        bulk_update_with_history(changed, RunValue, ["planned_nominal", "planned_min", "planned_max", "is_deviation"])
    run.planned_scale = new
    run.save(update_fields=["planned_scale", "updated_at"])


def _clean_names(names: Iterable[str] | str) -> list[str]:
    if isinstance(names, str):
        names = names.splitlines()
    return [n.strip() for n in names if n and n.strip()]


def run_set_planned_outputs(run: ProcessRun, *, outputs: int, output_kind: str = "", output_names: Iterable[str] = (),
                            output_location: str = "") -> ProcessRun:
    """Change what completing the run will create (before it is completed)."""
    _refuse_if_final(run)
    run.planned_outputs = outputs
    run.planned_output_kind = output_kind or ""
    run.planned_output_names = _clean_names(output_names)
    run.planned_output_location = output_location or ""
    run.full_clean(exclude=["label"])
    run.save(update_fields=["planned_outputs", "planned_output_kind", "planned_output_names",
                            "planned_output_location", "updated_at"])
    return run


def _refuse_if_final(run: ProcessRun) -> None:
    if run.status in (RunStatus.COMPLETED, RunStatus.ABORTED):
        raise ValidationError(f"{run.label} is {run.get_status_display().lower()}; its record is final.")


def run_mark_started(run: ProcessRun, when=None) -> ProcessRun:
    """planned → in progress when the first actual (a value or a condition) is logged; started_at
    is that moment unless it was recorded already. Never completes anything."""
    if run.status == RunStatus.PLANNED:
        run.status = RunStatus.IN_PROGRESS
        run.started_at = run.started_at or when or timezone.now()
        run.save(update_fields=["status", "started_at", "updated_at"])
    return run


def _run_value_apply_actual(value: RunValue, actual_value: float | None, actual_unit: str = "",
                            actual_text: str = "", note: str = "") -> RunValue:
    """Set and validate the actual fields and the deviation flag, without saving."""
    value.actual_value = actual_value
    value.actual_text = actual_text or ""
    value.note = note or ""
    if actual_value is not None:
        if not actual_unit and value.unit:
            raise ValidationError({"actual_unit": f"Give the unit of the actual value (planned in {value.unit})."})
        value.actual_unit = canonical_unit(actual_unit) if actual_unit else ""
    else:
        value.actual_unit = ""
    value.full_clean(exclude=["run", "parameter"])
    value.is_deviation = value.compute_deviation(settings.LEDGER_DEFAULT_TOLERANCE)
    return value


def run_value_set_actual(value: RunValue, actual_value: float | None, actual_unit: str = "",
                         actual_text: str = "", note: str = "") -> RunValue:
    """Record what was really done; the deviation flag follows from the planned range."""
    _run_value_apply_actual(value, actual_value, actual_unit, actual_text, note)
    value.save()
    if actual_value is not None or actual_text:
        run_mark_started(value.run)
    return value


@transaction.atomic
def run_record_actuals(run: ProcessRun, actuals: dict[str, tuple[float | None, str]],
                       notes: dict[str, str] | None = None) -> list[RunValue]:
    """``actuals`` maps "<step order>.<param key>" to (value, unit); ``notes`` maps a path to its
    short note ("balance drifted, re-tared"; "" clears it). A value whose note is not given keeps
    the one it has, and a note may be given without a value. All are validated first, then written
    in one bulk update with a history row each (all or nothing)."""
    values = {f"{v.parameter.step.order}.{v.parameter.key}": v
              for v in run.values.select_related("parameter__step")}
    notes = notes or {}
    out = []
    for path in [*actuals, *(p for p in notes if p not in actuals)]:
        if path not in values:
            raise ValidationError(f"{run.label} has no parameter {path!r}")
        value = values[path]
        note = notes.get(path, value.note)
        if path in actuals:
            number, unit = actuals[path]
            out.append(_run_value_apply_actual(value, number, unit, note=note))
        elif note != value.note:  # a note alone: the logged value stays as it is
            out.append(_run_value_apply_actual(value, value.actual_value, value.actual_unit,
                                               value.actual_text, note))
    if out:
        bulk_update_with_history(out, RunValue, RUN_VALUE_ACTUAL_FIELDS)
        if any(v.actual_value is not None or v.actual_text for v in out):
            run_mark_started(run)
    return out


def runs_mark_measured(sample_ids: Iterable[int], when=None) -> int:
    """Mark the runs that made ``sample_ids`` and their ancestors as measured (the first time only,
    so a busy batch run is written once, not on every metric of its descendants). Two queries."""
    from .selectors import ancestor_ids  # selectors import nothing of services

    ids = sorted(set(sample_ids))
    if not ids:
        return 0
    made = Sample.objects.filter(pk__in=sorted(set(ids) | ancestor_ids(ids)), produced_by__isnull=False)
    return (ProcessRun.objects.filter(pk__in=made.values("produced_by_id"), first_measured_at__isnull=True)
            .update(first_measured_at=when or timezone.now()))


MARK_ALL_MEASURED_SQL = """
UPDATE samples_processrun SET first_measured_at = CURRENT_TIMESTAMP
WHERE first_measured_at IS NULL AND id IN (
    WITH RECURSIVE up(id) AS (
        SELECT DISTINCT sample_id FROM measurements_derivedmetric
        UNION SELECT sp.parent_id FROM samples_sampleparent sp JOIN up ON sp.child_id = up.id)
    SELECT produced_by_id FROM samples_sample WHERE produced_by_id IS NOT NULL AND id IN (SELECT id FROM up))
"""  # the same for every stored metric at once (the migration's backfill, the bulk scale loader)


def sample_add_parent(child: Sample, parent: Sample, role: str = "") -> SampleParent:
    link = SampleParent(child=child, parent=parent, role=role)
    link.full_clean()  # refuses self-links and cycles with a message on the parent field
    link.save()
    return link


@transaction.atomic
def sample_create(*, kind: str, project: Project, owner=None, produced_by: ProcessRun | None = None,
                  parents: Iterable[Sample | tuple[Sample, str]] = (), name: str = "", location: str = "",
                  status: str = "active", notes: str = "", amount=None, amount_unit: str = "") -> Sample:
    sample = Sample(label=sample_label_for(kind), kind=kind, project=project, owner=owner, produced_by=produced_by,
                    name=name, location=location, status=status, notes=notes, amount=amount, amount_unit=amount_unit)
    sample.full_clean(exclude=["label"])
    sample.save()
    for item in parents:
        parent, role = item if isinstance(item, tuple) else (item, "")
        sample_add_parent(sample, parent, role)
    return sample


SAMPLE_EDIT_FIELDS = ("name", "location", "status", "notes")
PROJECT_FIELDS = ("code", "name", "description")


@transaction.atomic
def project_save(project: Project | None = None, *, members: Iterable | None = None, **fields) -> Project:
    """Create a project (``project`` None) or edit one: code, name, description and, when given,
    its members (the whole set: people added and removed). The code is the project's key in the
    API, exports and sign-in group mappings, so it is validated like any other field; the history
    keeps every earlier value and membership change."""
    project = project or Project()
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise ValidationError(f"Not a project field: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save()
    if members is not None:
        project.members.set(members)
    return project


def sample_update(sample: Sample, **fields) -> Sample:
    """Edit what a person may change on a sample (name, location, status, notes); the history
    keeps the old values. Label, kind, project and lineage are the record and stay."""
    _save_fields(sample, fields, SAMPLE_EDIT_FIELDS, "Not editable on a sample")
    return sample


def _save_fields(obj, fields: dict, allowed, refusal: str) -> list[str]:
    """Set the allowed ``fields`` that differ, validate with the model and save only those; returns
    the names changed (none: nothing saved). A field outside ``allowed`` is refused whole."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(f"{refusal}: {', '.join(sorted(unknown))}")
    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, fields[name])
        obj.full_clean(exclude=["label"])
        obj.save(update_fields=[*changed, "updated_at"])
    return changed


@transaction.atomic
def run_complete(run: ProcessRun, *, outputs: int | None = None, output_kind: str | None = None, name: str = "",
                 names: Iterable[str] | None = None, location: str | None = None, owner=None, started_at=None,
                 finished_at=None) -> list[Sample]:
    """Finish a run and create its output sample(s), each with the run's inputs as parents.

    What is created defaults to what was planned (``planned_outputs``, ``planned_output_kind``,
    ``planned_output_names``, ``planned_output_location``); an argument given here overrides it and
    is stored as the run's record of what it made. ``name`` names every output (a batch of
    identical substrates); ``names`` one each. ``started_at``/``finished_at`` record a run logged
    after the fact (default: now). A completed run cannot be completed again."""
    caller_run = run
    run = ProcessRun.objects.select_for_update().select_related("recipe_version__recipe").get(pk=run.pk)
    if run.status == RunStatus.COMPLETED:
        # Completing twice would make a second set of output samples for the same run.
        raise ValidationError(f"{run.label} is already completed; its outputs are "
                              f"{', '.join(run.outputs.values_list('label', flat=True))}.")
    if run.status == RunStatus.ABORTED:
        raise ValidationError(f"{run.label} was aborted; it creates no samples.")
    count = run.planned_outputs if outputs is None else outputs
    if not 1 <= count <= MAX_RUN_OUTPUTS:
        raise ValidationError({"outputs": f"A run produces between 1 and {MAX_RUN_OUTPUTS} samples."})
    kind = output_kind or run.output_kind
    if not kind:
        raise ValidationError({"output_kind": f"{run.recipe_version.recipe} does not say what it produces."})
    if started_at and finished_at and finished_at < started_at:
        raise ValidationError({"finished_at": "Finished before it started."})
    if names is not None:
        name_list = _clean_names(names)
    elif name:
        name_list = [name] * count
    else:
        name_list = list(run.planned_output_names or [])
    if len(name_list) > count:
        raise ValidationError({"names": f"{len(name_list)} names for {count} output(s)."})
    place = run.planned_output_location if location is None else location
    run.planned_outputs, run.planned_output_kind = count, kind
    run.planned_output_names, run.planned_output_location = name_list, place
    run.status = RunStatus.COMPLETED
    run.finished_at = finished_at or run.finished_at or timezone.now()
    run.started_at = started_at or run.started_at or run.finished_at
    run.save(update_fields=["status", "finished_at", "started_at", "planned_outputs", "planned_output_kind",
                            "planned_output_names", "planned_output_location", "updated_at"])
    for field in ("status", "finished_at", "started_at", "planned_outputs", "planned_output_kind",
                  "planned_output_names", "planned_output_location", "updated_at"):
        setattr(caller_run, field, getattr(run, field))  # the caller's instance says what happened
    parents = list(run.inputs.all())
    lots_consume(run)
    events.emit("run.completed", run_id=run.pk)  # on commit, with its outputs created
    return [
        sample_create(kind=kind, project=run.project, owner=owner or run.operator, produced_by=run, parents=parents,
                      name=name_list[i] if i < len(name_list) else "", location=place)
        for i in range(count)
    ]


# --- lots -------------------------------------------------------------------------------------

def _grams(value: float, unit: str, chemical) -> float | None:
    """An amount as grams of the chemical: a mass as is, a volume through its density, mmol through
    its molar mass; None when the chemical lacks what the conversion needs."""
    dim = dimension(unit)
    if dim == "mass":
        return convert(value, unit, "g")
    if dim == "volume" and chemical.density_g_ml:
        return convert(value, unit, "mL") * chemical.density_g_ml
    if dim == "amount" and chemical.molar_mass_g_mol:
        return convert(value, unit, "mol") * chemical.molar_mass_g_mol
    return None


def _in_lot_unit(value: float, unit: str, lot: ChemicalLot, param: RecipeParameter) -> tuple[float | None, str]:
    """``value unit`` as the lot counts it (its amount_unit), and how, or (None, why not)."""
    chemical = lot.chemical
    if param.stock_mg_ml is not None and dimension(unit) == "volume" and dimension(lot.amount_unit) != "volume":
        value, unit = param.stock_mg_ml * convert(value, unit, "mL"), "mg"  # a dose from a stock solution
    try:
        if dimension(unit) == dimension(lot.amount_unit):
            return convert(value, unit, lot.amount_unit), ""
        grams = _grams(value, unit, chemical)
        target = dimension(lot.amount_unit)
        via = {"volume": " (through its density)", "amount": " (through its molar mass)"}.get(dimension(unit), "")
        if grams is not None:
            if target == "mass":
                return convert(grams, "g", lot.amount_unit), via
            if target == "volume" and chemical.density_g_ml:
                return convert(grams / chemical.density_g_ml, "mL", lot.amount_unit), " (through its density)"
            if target == "amount" and chemical.molar_mass_g_mol:
                return convert(grams / chemical.molar_mass_g_mol, "mol", lot.amount_unit), " (through its molar mass)"
    except UnitError:
        pass
    return None, f"{value:g} {unit} does not convert to {lot.amount_unit} for {chemical.name}"


def lots_consume(run: ProcessRun) -> list:
    """Take a completed run's actual amounts off its lots (``LotUsage`` rows, ``amount_left``
    decremented with history). A remainder below zero is kept and shown as a warning, not refused:
    the balance said so, the record of the lot was wrong. What cannot be computed is recorded with
    the reason and not taken off."""
    from .models import LotUsage

    usages = []
    lots = list(run.lots.select_for_update().select_related("chemical"))
    per_chemical: dict[int, int] = {}
    for lot in lots:
        per_chemical[lot.chemical_id] = per_chemical.get(lot.chemical_id, 0) + 1
    values = [v for v in run.values.select_related("parameter__step") if v.parameter.chemical_id is not None]
    for lot in lots:
        mine = [v for v in values if v.parameter.chemical_id == lot.chemical_id]
        total, notes, ok = 0.0, [], bool(mine)
        if per_chemical[lot.chemical_id] > 1:
            ok, notes = False, [f"{per_chemical[lot.chemical_id]} lots of {lot.chemical.name} in this run: "
                                "which one was used is not recorded, nothing taken off"]
        elif not mine:
            notes = [f"no parameter of this recipe uses {lot.chemical.name}"]
        elif not lot.amount_unit:
            ok, notes = False, ["the lot has no unit"]
        else:
            for v in mine:
                where = f"{v.parameter.name} (step {v.parameter.step.order})"
                if v.actual_value is None:
                    ok = False
                    notes.append(f"{where}: no actual amount logged, nothing taken off")
                    continue
                amount, how = _in_lot_unit(v.actual_value, v.actual_unit or v.unit, lot, v.parameter)
                if amount is None:
                    ok = False
                    notes.append(f"{where}: {how}")
                    continue
                total += amount
                notes.append(f"{where}: {v.actual_value:g} {v.actual_unit or v.unit}{how}")
        usage = LotUsage(run=run, lot=lot, unit=lot.amount_unit, note="; ".join(notes)[:300])
        if ok:
            usage.amount = total
            if lot.amount_left is not None:
                lot.amount_left = lot.amount_left - total
                lot.save(update_fields=["amount_left", "updated_at"])  # with its history row
                usage.remaining_after = lot.amount_left
        usage.save()
        usages.append(usage)
    return usages


LOGGED_CONDITIONS = ("glovebox_o2_ppm", "glovebox_h2o_ppm", "temperature_c", "humidity_percent")
RUN_CONDITION_FIELDS = ("glovebox_o2_ppm", "glovebox_h2o_ppm", "temperature_c", "humidity_percent", "batch_volume_ml", "notes")


@transaction.atomic
def run_set_conditions(run: ProcessRun, **fields) -> ProcessRun:
    """Record the conditions of a run (glovebox O₂/H₂O, T, RH, scale, notes), validated by the model."""
    changed = _save_fields(run, fields, RUN_CONDITION_FIELDS, "Not a run condition")
    if not changed:
        return run
    if "batch_volume_ml" in changed:
        _run_rescale(run)
    if any(getattr(run, n) is not None for n in changed if n in LOGGED_CONDITIONS):
        run_mark_started(run)  # a glovebox reading is a first actual
    return run
