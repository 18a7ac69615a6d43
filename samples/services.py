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
from core.units import canonical_unit
from recipes.models import RecipeParameter, RecipeVersion

from .models import LABEL_PREFIX, ProcessRun, Project, RunStatus, RunValue, Sample, SampleParent

RUN_VALUE_ACTUAL_FIELDS = ["actual_value", "actual_unit", "actual_text", "note", "is_deviation"]


def sample_label_for(kind: str) -> str:
    return next_label(LABEL_PREFIX.get(kind, "S"))


@transaction.atomic
def run_plan(*, version: RecipeVersion, project: Project, operator=None, planned_date=None,
             batch_volume_ml: float | None = None, inputs: Iterable[Sample] = (), lots=(), notes: str = "") -> ProcessRun:
    """Create a run from a recipe version: copy every planned value, freeze the version."""
    run = ProcessRun(label=next_label("RUN"), recipe_version=version, project=project, operator=operator,
                     planned_date=planned_date, batch_volume_ml=batch_volume_ml, notes=notes)
    run.full_clean(exclude=["label"])
    run.save()
    if not version.is_frozen:
        # Frozen from the first use on: later edits make a new version (recipes.services).
        RecipeVersion.objects.filter(pk=version.pk, frozen_at__isnull=True).update(frozen_at=timezone.now())
        version.refresh_from_db(fields=["frozen_at"])
    params = RecipeParameter.objects.filter(step__version=version).select_related("step")
    # One insert for all planned values, with their history rows (a run's values are lab records).
    bulk_create_with_history([
        RunValue(run=run, parameter=p, planned_nominal=p.nominal, planned_min=p.min_value, planned_max=p.max_value,
                 planned_text=p.text_value, unit=p.unit)
        for p in params
    ], RunValue)
    if inputs:
        run.inputs.set(inputs)
    if lots:
        run.lots.set(lots)
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
    return value


@transaction.atomic
def run_record_actuals(run: ProcessRun, actuals: dict[str, tuple[float | None, str]]) -> list[RunValue]:
    """``actuals`` maps "<step order>.<param key>" to (value, unit). All are validated first, then
    written in one bulk update with a history row each (all or nothing)."""
    values = {f"{v.parameter.step.order}.{v.parameter.key}": v
              for v in run.values.select_related("parameter__step")}
    out = []
    for path, (number, unit) in actuals.items():
        if path not in values:
            raise ValidationError(f"{run.label} has no parameter {path!r}")
        out.append(_run_value_apply_actual(values[path], number, unit))
    if out:
        bulk_update_with_history(out, RunValue, RUN_VALUE_ACTUAL_FIELDS)
    return out


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


@transaction.atomic
def run_complete(run: ProcessRun, *, outputs: int = 1, output_kind: str | None = None, name: str = "",
                 location: str = "", owner=None) -> list[Sample]:
    """Finish a run and create its output sample(s), each with the run's inputs as parents
    (a batch of N substrates is ``outputs=N``)."""
    if outputs < 1:
        raise ValidationError({"outputs": "A run produces at least one sample."})
    kind = output_kind or run.recipe_version.recipe.output_kind
    if not kind:
        raise ValidationError({"output_kind": f"{run.recipe_version.recipe} does not say what it produces."})
    run.status = RunStatus.COMPLETED
    run.finished_at = run.finished_at or timezone.now()
    run.started_at = run.started_at or run.finished_at
    run.save(update_fields=["status", "finished_at", "started_at", "updated_at"])
    parents = list(run.inputs.all())
    events.emit("run.completed", run_id=run.pk)  # on commit, with its outputs created
    return [
        sample_create(kind=kind, project=run.project, owner=owner or run.operator, produced_by=run, parents=parents,
                      name=name, location=location)
        for _ in range(outputs)
    ]


RUN_CONDITION_FIELDS = ("glovebox_o2_ppm", "glovebox_h2o_ppm", "temperature_c", "humidity_percent", "batch_volume_ml", "notes")


def run_set_conditions(run: ProcessRun, **fields) -> ProcessRun:
    """Record the conditions of a run (glovebox O₂/H₂O, T, RH, scale, notes), validated by the model."""
    unknown = set(fields) - set(RUN_CONDITION_FIELDS)
    if unknown:
        raise ValidationError(f"Not a run condition: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(run, name, value)
    run.full_clean(exclude=["label"])
    run.save(update_fields=[*fields, "updated_at"])
    return run
