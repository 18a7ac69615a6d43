"""Run-level stoichiometry: a run's planned-vs-actual composition.

    run_composition(run, volume_ml=None)  → recipes.stoichiometry's dict, planned beside actual

Runs sit a layer above recipes, so this is where the engine meets a run: its logged values, and
the Cs injected from a Cs-oleate input, read from that input's own run. Recipe versions (and the
engine glue) stay in ``recipes.stoichiometry``.
"""

from __future__ import annotations

from typing import Any

from core.units import convert
from recipes.chemistry import ReagentLibrary
from recipes.models import RecipeStep
from recipes.stoichiometry import (
    COMPONENT,
    HOT_INJECTION,
    RATIO_UNIT,
    SOLVENT,
    describe,
    format_value,
    lines_from_values,
    merge_rows,
    nominal_value,
)

from .models import ProcessRun


def run_composition(run: ProcessRun, volume_ml: float | str | None = None, *,
                    library: ReagentLibrary | None = None) -> dict[str, Any] | None:
    """Planned vs actual for a run. The planned weigh table is for ``volume_ml`` (default: the
    run's ``batch_volume_ml``, else the recipe's volume); the actual columns are the amounts the
    run logged, in the units they were logged in, and the actual composition is computed from
    them (components not logged are taken as planned, with a warning)."""
    values = (run.values.filter(parameter__role__in=(COMPONENT, SOLVENT))
              .select_related("parameter__step", "parameter__chemical")
              .order_by("parameter__step__order", "parameter__order", "parameter_id"))
    return describe(run.recipe_version, lines_from_values(values, run.planned_scale), volume_ml, library, run=run,
                    extend=lambda result, library: _add_cs_injection(result, run, library))


def _add_cs_injection(result: dict[str, Any], run: ProcessRun, library: ReagentLibrary) -> None:
    """Cs delivered by the injection and the flask's Cs:Pb, from the Cs-oleate that went into the run
    (PROCESS.md §2: 0.85 mL of the 0.4185 M stock → 0.356 mmol Cs; with 0.4338 mmol Pb, Cs:Pb ≈ 0.82).
    The stock's [Cs] is its own run's actual value when logged. Nothing is added without both."""
    if result["kind"] != HOT_INJECTION:
        return
    source = next((s for s in run.inputs.all() if s.kind == "cs_oleate" and s.produced_by_id), None)
    inject = (run.values.filter(parameter__step__action=RecipeStep.Action.INJECT, unit__in=("mL", "µL"))
              .select_related("parameter__step").first())
    if source is None or inject is None:
        return
    stock_run = ProcessRun.objects.select_related("recipe_version__recipe").get(pk=source.produced_by_id)
    stock = run_composition(stock_run, library=library) or {}
    details = stock.get("details", {})
    molarity_m = (details.get("actual") or details.get("planned") or {}).get("cs_molarity_m")
    if not molarity_m:
        return
    planned_ml = convert(nominal_value(inject.planned_nominal, inject.planned_min, inject.planned_max), inject.unit, "mL")
    pb_planned = result["details"]["planned"]["pb_mmol"]
    pb_actual = result["details"].get("actual", {}).get("pb_mmol", pb_planned)

    def quantities(volume_ml: float, pb_mmol: float) -> list[tuple[str, str, str, float]]:
        cs_mmol = molarity_m * volume_ml
        return [("cs_injected", f"Cs injected ({source.label}, {format_value(molarity_m)} M)", "mmol", cs_mmol),
                ("ratio:Cs", "Cs:Pb", RATIO_UNIT, cs_mmol / pb_mmol)]

    actual = None
    if inject.actual_value is not None:
        actual = quantities(convert(inject.actual_value, inject.actual_unit or inject.unit, "mL"), pb_actual)
    result["contents"] += merge_rows(quantities(planned_ml, pb_planned), actual)
