"""Selectors that put the stoichiometry engine (recipes.chemistry) behind recipe and run pages.

    version_composition(version, volume_ml=None)  → "what is in it" + "what to weigh" for a recipe
    samples.stoichiometry.run_composition(run)    → the same, planned beside actual, for a run

Runs live a layer above recipes, so the run level is in ``samples.stoichiometry``: it reads the
run's values into lines (``lines_from_values``) and calls ``describe`` here, which knows no run
beyond its ``batch_volume_ml``.

Both return one plain dict (shape in ``_new_result``) that the ``composition_tables`` template
tag, the traveller sheet and views can read without knowing the engine; ``None`` when the recipe
has no components. A ChemistryError never escapes: its message goes into ``result["error"]`` so
a page shows it to the chemist instead of a 500.

The engine is pure Python; this module is the only place that turns Chemical rows and recipe
parameters into engine objects.
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from core.units import UnitError, convert, dimension

from .chemistry import (
    ChemistryError,
    Component,
    Composition,
    ReagentLibrary,
    amount_mmol,
    composition,
    cs_oleate,
    default_library,
    hot_injection_ratios,
    ligand_dose,
    scale_components,
    stock_amount_mmol,
)
from .chemistry.composition import format_count
from .chemistry.ions import COUNTER, LATTICE_ROLES
from .chemistry.reagents import Reagent
from .models import Chemical, RecipeParameter, RecipeVersion, StepType

logger = logging.getLogger(__name__)

COMPONENT = RecipeParameter.Role.COMPONENT
SOLVENT = RecipeParameter.Role.SOLVENT

# What a recipe's amounts mean depends on its step type: a precursor is a solution with molarities,
# a hot-injection flask has ratios to Pb, a ligand treatment has a dose per iteration.
SOLUTION, CS_OLEATE, HOT_INJECTION, LIGAND_TREATMENT = "solution", "cs_oleate", "hot_injection", "ligand_treatment"
KIND_BY_STEP_TYPE = {
    StepType.CS_OLEATE: CS_OLEATE,
    StepType.QD_SYNTHESIS: HOT_INJECTION,
    StepType.LIGAND_TREATMENT: LIGAND_TREATMENT,
}
SCALABLE_KINDS = (SOLUTION, CS_OLEATE)  # a QD flask or a ligand dose is not "made up to a volume"
KIND_TITLES = {
    SOLUTION: "Solution",
    CS_OLEATE: "Cs-oleate precursor",
    HOT_INJECTION: "Hot-injection flask (nominal, before the Cs-oleate injection)",
    LIGAND_TREATMENT: "Ligand dose per treatment iteration",
}
RATIO_UNIT = "mol/mol"


# --- the reagent library ---------------------------------------------------------------------------

def _lookup_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


class LabReagentLibrary(ReagentLibrary):
    """The built-in reagents plus the lab's Chemicals.

    A Chemical row the engine cannot read (a typo in its formula, an unknown ion in its split) is
    remembered with the reason, so a recipe that uses it reports that reason rather than
    "unknown reagent" or, worse, silently falling back to the built-in entry of the same name.
    """

    def __init__(self, reagents: Iterable[Reagent] = ()) -> None:
        super().__init__(reagents)
        self.rejected: dict[str, str] = {}

    def get(self, name: str) -> Reagent:
        reason = self.rejected.get(_lookup_key(name))
        if reason is not None:
            raise ChemistryError(reason)
        return super().get(name)


def chemical_row(chemical: Chemical, built_in: ReagentLibrary | None = None) -> dict[str, Any]:
    """A Chemical as the mapping ``ReagentLibrary.extend`` reads."""
    return {
        "name": chemical.name,
        "abbreviation": chemical.abbreviation,
        "formula": chemical.formula,
        "molar_mass_g_mol": chemical.molar_mass_g_mol,
        "density_g_ml": chemical.density_g_ml,
        "purity_wt_percent": _dilution_wt_percent(chemical),
        "ions": _with_counter_ions(chemical, built_in or default_library()),
    }


def _dilution_wt_percent(chemical: Chemical) -> float | None:
    """Chemical.purity_wt_percent means two things: the wt % of a solution (HI 57 wt %), which the
    engine must divide out, and the grade of a solid salt (PbI2 99.99 %, trace-metals basis), which
    labs do not correct for at the balance — PROCESS.md §4 weighs 92.20 mg PbI2 for 0.20 mmol. So
    only a liquid (one with a density) passes its purity on as a dilution."""
    return chemical.purity_wt_percent if chemical.density_g_ml is not None else None


def _with_counter_ions(chemical: Chemical, built_in: ReagentLibrary) -> dict[str, float]:
    """Labs record the ions that stay in the film ({"I": 1} for HI, {"Cs": 2} for Cs2CO3). When
    that matches the lattice ions of the built-in entry of the same name, take the built-in split
    with its counter-ions (H⁺, CO3²⁻, acetate): the engine needs them to tell acid iodide from
    metal-halide iodide (PROCESS.md §2) and to keep the charge balance honest."""
    ions = {str(s): float(n) for s, n in (chemical.ions or {}).items()} if isinstance(chemical.ions, dict) else {}
    if not ions:
        return ions  # empty: the engine guesses the split from the formula (or treats it as a solvent)
    for name in (chemical.abbreviation, chemical.name):
        if not name or name not in built_in:
            continue
        reference = built_in.get(name).ions
        lattice = {s: n for s, n in reference.items() if built_in.ion(s).role != COUNTER}
        if lattice == ions and len(lattice) < len(reference):
            return dict(reference)
    return ions


def library_from_db(chemicals: Iterable[Chemical] | None = None) -> LabReagentLibrary:
    """The engine's built-in reagents, extended with every Chemical that has a formula or an ion
    split (the lab's record wins over the built-in one). One query; build it once per request and
    pass it on (``library=``) rather than per component."""
    built_in = default_library()
    library = LabReagentLibrary(built_in)
    rows = Chemical.objects.all() if chemicals is None else chemicals
    for chemical in rows:
        if not (chemical.formula or chemical.ions):
            continue  # a polymer or a mixture without a formula: nothing the engine can convert
        try:
            library.add(chemical_row(chemical, built_in))
        except ChemistryError as exc:
            key = chemical.abbreviation or chemical.name
            reason = f"{key} cannot be used in stoichiometry: {exc}. Fix it in Chemicals"
            logger.warning("Chemical %s (pk %s) left out of the reagent library: %s", key, chemical.pk, exc)
            for name in (chemical.abbreviation, chemical.name):
                if name:
                    library.rejected[_lookup_key(name)] = reason
    return library


def reagent_for(chemical: Chemical, library: ReagentLibrary) -> Reagent:
    """The engine's reagent for a Chemical row, with a message that says what to fix."""
    if not (chemical.formula or chemical.ions or chemical.molar_mass_g_mol):
        raise ChemistryError(f"{chemical.name} has no formula in Chemicals, so its amount cannot be converted to mmol; "
                             "add its formula there")
    return library.get(chemical.abbreviation or chemical.name)


# --- recipe parameters as engine input -------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    """A component or solvent parameter, from a recipe version (planned only) or a run (with actual)."""

    param: RecipeParameter
    planned: float | None
    unit: str
    actual: float | None = None
    actual_unit: str = ""

    @property
    def where(self) -> str:
        return f"{self.param.name} (step {self.param.step.order})"

    @property
    def is_logged(self) -> bool:
        return self.actual is not None


def nominal_value(nominal: float | None, lo: float | None, hi: float | None) -> float | None:
    """The value to compute with: the nominal, else the middle of a range (0.8–0.9 mL → 0.85)."""
    if nominal is not None:
        return nominal
    if lo is not None and hi is not None:
        return (lo + hi) / 2
    return lo if lo is not None else hi


def _version_lines(version: RecipeVersion) -> list[_Line]:
    params = (RecipeParameter.objects.filter(step__version=version, role__in=(COMPONENT, SOLVENT))
              .select_related("step", "chemical").order_by("step__order", "order", "id"))
    return [_Line(p, nominal_value(p.nominal, p.min_value, p.max_value), p.unit) for p in params]


def lines_from_values(values: Iterable[Any], planned_scale: float = 1.0) -> list[_Line]:
    """A run's component and solvent values (samples' RunValue rows, with their parameter, step and
    chemical loaded, in step order) as engine input: planned and actual side by side.

    A run planned at a batch volume stores its amounts scaled (``planned_scale``, see
    ``scales_with_batch``); the lines are at the recipe's own scale, which ``describe`` scales
    back by the run's batch volume, so recipe volume, run volume and weigh table stay consistent."""
    lines = []
    for v in values:
        planned = nominal_value(v.planned_nominal, v.planned_min, v.planned_max)
        if planned is not None and planned_scale != 1.0 and scales_with_batch(v.parameter.role, v.unit):
            planned = planned / planned_scale
        lines.append(_Line(v.parameter, planned, v.unit, v.actual_value, v.actual_unit or v.unit))
    return lines


BATCH_SCALED_DIMENSIONS = ("mass", "volume", "amount")


def scales_with_batch(role: str, unit: str) -> bool:
    """A component or solvent given as an amount (mg, mmol, µL, a stock dose in mL) doubles with a
    2× batch; a concentration (mg/mL, M) and every process setting stay as they are."""
    if role not in (COMPONENT, SOLVENT) or not unit:
        return False
    try:
        return dimension(unit) in BATCH_SCALED_DIMENSIONS
    except UnitError:
        return False


def version_volume_ml(version: RecipeVersion) -> float | None:
    """The recipe's own solvent volume (mL) when its product is made up to a volume (a precursor
    solution, the Cs-oleate stock), i.e. what a run's ``batch_volume_ml`` is relative to; None
    for a QD flask, a ligand dose or a recipe without solvent volume."""
    if KIND_BY_STEP_TYPE.get(version.recipe.step_type, SOLUTION) not in SCALABLE_KINDS:
        return None
    try:
        volume = _solvent_ml([line for line in _version_lines(version) if line.param.role == SOLVENT])
    except ChemistryError:
        return None
    return volume if volume > 0 else None


def _volume_ml(value: float, unit: str, where: str) -> float:
    try:
        if dimension(unit) != "volume":
            raise ChemistryError(f"{where}: give a volume (mL or µL), not {value:g} {unit}".rstrip())
        return convert(value, unit, "mL")
    except UnitError as exc:
        raise ChemistryError(f"{where}: {exc}") from None


def _component(line: _Line, value: float | None, unit: str, library: ReagentLibrary,
               solvent_ml: float | None) -> Component:
    """One component amount → Component (mmol). Accepts every unit the engine does, plus a stock
    dose (stock_mg_ml × volume) and a concentration in the final solution (mg/mL, M × solvent)."""
    param = line.param
    if value is None:
        raise ChemistryError(f"{line.where}: no amount given")
    if not unit:
        raise ChemistryError(f"{line.where}: {value:g} has no unit; give mg, g, mmol, µL or mL")
    reagent = reagent_for(param.chemical, library)
    try:
        if param.stock_mg_ml is not None:
            volume = _volume_ml(value, unit, line.where)
            return Component(reagent, stock_amount_mmol(reagent, param.stock_mg_ml, volume),
                             f"{param.stock_mg_ml:g} mg/mL × {value:g} {unit}")
        if unit in ("mg/mL", "M", "mM"):
            if not solvent_ml:
                raise ChemistryError(f"{value:g} {unit} needs the solvent volume, and this recipe gives none")
            if unit == "mg/mL":
                return Component(reagent, amount_mmol(reagent, value * solvent_ml, "mg"), f"{value:g} {unit}")
            molar = convert(value, unit, "M")
            return Component(reagent, molar * solvent_ml, f"{value:g} {unit}")
        return Component(reagent, amount_mmol(reagent, value, unit), f"{value:g} {unit}")
    except ChemistryError as exc:
        raise ChemistryError(f"{line.where}: {exc}") from None


def _solvent_ml(lines: Iterable[_Line]) -> float:
    """Total planned solvent volume, in mL."""
    return sum(_volume_ml(line.planned, line.unit, line.where) for line in lines if line.planned is not None)


def _actual_solvent_ml(lines: Iterable[_Line], run_scale: float) -> float:
    """Total solvent a run used: the logged volumes, and the plan at the run's scale where none was logged."""
    return sum(_volume_ml(line.actual, line.actual_unit, line.where) if line.is_logged
               else _volume_ml(line.planned, line.unit, line.where) * run_scale
               for line in lines if line.is_logged or line.planned is not None)


def _reagent_name(line: _Line, library: ReagentLibrary) -> str:
    return reagent_for(line.param.chemical, library).name


# --- formatting ------------------------------------------------------------------------------------

_SUPERSCRIPT = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")


def _ion_label(symbol: str, library: ReagentLibrary) -> str:
    charge = library.ion(symbol).charge
    text = ("" if abs(charge) == 1 else str(abs(charge))) + ("+" if charge > 0 else "-")
    return f"[{symbol}{text.translate(_SUPERSCRIPT)}]"


def format_value(value: Any, unit: str = "") -> str:
    """Numbers as a chemist reads them: mg to the balance's 0.01 mg, µL to 0.1 µL, the rest to
    four significant figures (0.4000 M, 3.333, 2.822). ∞ for a 3D perovskite's ⟨n⟩."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isinf(value):
        return "∞"
    if isinstance(value, float) and math.isnan(value):
        return "—"
    if unit in ("mg", "g/mol"):
        return f"{value:.2f}"
    if unit == "µL":
        return f"{value:.1f}"
    if value == 0:
        return "0"
    return format(value, "#.4g").rstrip(".") if 1e-4 <= abs(value) < 1e5 else f"{value:.3e}"


def _text(formatter: Callable[..., str], value: Any, unit: str) -> str:
    if formatter is format_count:
        if not isinstance(value, (int, float)) or math.isnan(value):
            return "—"
        return "∞ (3D)" if math.isinf(value) else format_count(value)
    return formatter(value, unit)


def _is_deviation(delta_percent: float | None) -> bool:
    """Same tolerance as the run's planned-vs-actual values (samples.services.run_value_set_actual)."""
    tolerance = getattr(settings, "LEDGER_DEFAULT_TOLERANCE", 0.05) * 100
    return delta_percent is not None and abs(delta_percent) > tolerance


def _delta_percent(planned: Any, actual: Any) -> float | None:
    if not isinstance(planned, (int, float)) or not isinstance(actual, (int, float)):
        return None
    if not (math.isfinite(planned) and math.isfinite(actual)) or planned == 0:
        return None
    return (actual - planned) / planned * 100.0


# A "what is in it" line before the planned/actual merge: key, label, unit, value.
_Quantity = tuple[str, str, str, Any]


def merge_rows(planned: list[_Quantity], actual: list[_Quantity] | None) -> list[dict[str, Any]]:
    """Planned and actual quantities side by side, matched by key (an ion present in only one of
    them still gets its row)."""
    actual_by_key = {q[0]: q for q in actual or []}
    keys = [q[0] for q in planned] + [q[0] for q in actual or [] if q[0] not in {p[0] for p in planned}]
    planned_by_key = {q[0]: q for q in planned}
    rows = []
    for key in keys:
        source = planned_by_key.get(key) or actual_by_key[key]
        _, label, unit, _ = source
        value = planned_by_key[key][3] if key in planned_by_key else None
        got = actual_by_key[key][3] if key in actual_by_key else None
        text = format_count if unit == "layers" else format_value  # ⟨n⟩ reads "3", as in the formula
        rows.append({"key": key, "label": label, "unit": unit, "value": value, "value_text": _text(text, value, unit),
                     "actual": got, "actual_text": _text(text, got, unit) if actual is not None else "",
                     "delta_percent": _delta_percent(value, got), "is_deviation": _is_deviation(_delta_percent(value, got))})
    return rows


def _weigh_row(line: _Line, part: Component, actual: Component | None = None,
               planned_at_run_scale: Component | None = None, given_as: str | None = None) -> dict[str, Any]:
    """One "what to weigh" line. ``actual`` is what the run logged; its deviation is taken against
    the plan at the run's own batch volume, not against whatever volume the page is showing."""
    chemical = line.param.chemical
    reference = planned_at_run_scale or part
    row = {
        "reagent": part.reagent.name,
        "name": chemical.name if chemical else part.reagent.name,
        "parameter": line.param.name,
        "step": line.param.step.order,
        "formula": part.reagent.formula,
        "molar_mass_g_mol": part.molar_mass_g_mol,
        "mmol": part.amount_mmol,
        "mg": part.mass_mg,
        "ul": part.volume_ul,  # None for a solid
        "given_as": part.given_as if given_as is None else given_as,  # the recipe's wording: "250 mg/mL × 0.1 mL"
        "is_liquid": part.reagent.is_liquid,
        "actual_given": "", "actual_mmol": None, "actual_mg": None, "delta_percent": None, "is_deviation": False,
    }
    row["text"] = {"molar_mass_g_mol": format_value(row["molar_mass_g_mol"], "g/mol"), "mmol": format_value(row["mmol"], "mmol"),
                   "mg": format_value(row["mg"], "mg"), "ul": format_value(row["ul"], "µL") if row["ul"] is not None else ""}
    if actual is not None:
        row.update(actual_given=f"{format_value(line.actual)} {line.actual_unit}".strip(), actual_mmol=actual.amount_mmol,
                   actual_mg=actual.mass_mg, delta_percent=_delta_percent(reference.amount_mmol, actual.amount_mmol))
        row["is_deviation"] = _is_deviation(row["delta_percent"])
        row["text"]["actual_mmol"] = format_value(actual.amount_mmol, "mmol")
    return row


# --- the result --------------------------------------------------------------------------------------

def _new_result(kind: str, version: RecipeVersion, run: Any) -> dict[str, Any]:
    """The dict every caller reads. Keys:

    kind          "solution" | "cs_oleate" | "hot_injection" | "ligand_treatment"
    title         heading for the tables
    version, run  the RecipeVersion and the ProcessRun (None on a recipe page)
    is_run        True when planned and actual columns are meaningful
    has_actual    True when the run logged at least one component amount
    scalable      True when the weigh table can be recomputed for another volume
    volume_ml     volume the weigh table is for (None when not scalable)
    recipe_volume_ml, run_volume_ml, scale   the recipe's own solvent volume, the run's batch volume, ratio
    solvent       e.g. "DMSO"; solvents: [{"name", "ml", "text"}] scaled like the weigh table
    contents      "what is in it": [{"key", "label", "unit", "value", "value_text",
                                     "actual", "actual_text", "delta_percent", "is_deviation"}]
    weigh         "what to weigh": [{"reagent", "name", "parameter", "step", "formula", "molar_mass_g_mol",
                                     "mmol", "mg", "ul", "given_as", "is_liquid", "actual_given",
                                     "actual_mmol", "actual_mg", "delta_percent", "is_deviation",
                                     "text": {"molar_mass_g_mol", "mmol", "mg", "ul", "actual_mmol"}}]
    formula, n    the perovskite formula and ⟨n⟩ (solutions only; n None for 3D)
    composition, actual_composition   the engine's Composition.to_dict() (solutions only)
    details       kind-specific raw numbers (cs_oleate / hot_injection / ligand doses)
    warnings      engine and service warnings, for the chemist
    error         a ChemistryError message when nothing could be computed, else None
    volume_error  a message when the requested volume was not usable (the recipe volume is shown)
    """
    return {
        "kind": kind, "title": KIND_TITLES[kind], "version": version, "run": run, "is_run": run is not None,
        "has_actual": False, "scalable": kind in SCALABLE_KINDS, "volume_ml": None, "recipe_volume_ml": None,
        "run_volume_ml": getattr(run, "batch_volume_ml", None), "scale": 1.0, "solvent": "", "solvents": [],
        "contents": [], "weigh": [], "formula": "", "n": None, "composition": None, "actual_composition": None,
        "details": {}, "warnings": [], "error": None, "volume_error": None,
    }


def _parse_volume(volume_ml: Any) -> float | None:
    """A volume from a GET parameter or a caller: None/"" → None; "3,0" reads as 3.0."""
    if volume_ml is None or (isinstance(volume_ml, str) and not volume_ml.strip()):
        return None
    try:
        value = float(str(volume_ml).replace(",", ".")) if isinstance(volume_ml, str) else float(volume_ml)
    except (TypeError, ValueError):
        raise ChemistryError(f"the volume must be a number of mL (got {volume_ml!r})") from None
    if not (value > 0 and math.isfinite(value)):
        raise ChemistryError(f"the volume must be a positive number of mL (got {volume_ml!r})")
    return value


def version_composition(version: RecipeVersion, volume_ml: float | str | None = None, *,
                        library: ReagentLibrary | None = None) -> dict[str, Any] | None:
    """What is in ``version``'s product and what to weigh for ``volume_ml`` (default: the recipe's
    own solvent volume). None when the recipe has no components (a spin-coating recipe)."""
    return describe(version, _version_lines(version), volume_ml, library, run=None)


# Objects of the layers above (samples: a ProcessRun) describe themselves through a function they
# register here, so the {% composition_tables %} tag shows a run without recipes importing samples.
_DESCRIBERS: dict[type, Callable[..., dict[str, Any] | None]] = {}


def register_composition(model: type, describer: Callable[..., dict[str, Any] | None]) -> None:
    """``describer(obj, volume_ml, *, library)`` answers ``composition_of`` for instances of ``model``
    (SamplesConfig.ready registers ProcessRun → samples.stoichiometry.run_composition)."""
    _DESCRIBERS[model] = describer


def composition_of(obj: Any, volume_ml: float | str | None = None, *,
                   library: ReagentLibrary | None = None) -> dict[str, Any] | None:
    """``version_composition`` for a RecipeVersion, else the registered describer of obj's class."""
    if isinstance(obj, RecipeVersion):
        return version_composition(obj, volume_ml, library=library)
    for model, describer in _DESCRIBERS.items():
        if isinstance(obj, model):
            return describer(obj, volume_ml, library=library)
    raise TypeError(f"no composition for a {type(obj).__name__}: register one with recipes.stoichiometry.register_composition")


def describe(version: RecipeVersion, lines: list[_Line], volume_ml: Any, library: ReagentLibrary | None,
             run: Any = None, *, extend: Callable[[dict[str, Any], ReagentLibrary], None] | None = None,
             ) -> dict[str, Any] | None:
    """The result dict for ``lines`` of ``version``; ``run`` (a ProcessRun, for samples.stoichiometry)
    gives the batch volume and makes the actual columns meaningful. ``extend(result, library)`` adds
    what only the run level knows (the Cs injected from an input's own run); a ChemistryError it
    raises lands in ``result["error"]`` like the engine's own."""
    components = [line for line in lines if line.param.role == COMPONENT]
    if not components:
        return None
    kind = KIND_BY_STEP_TYPE.get(version.recipe.step_type, SOLUTION)
    result = _new_result(kind, version, run)
    result["has_actual"] = run is not None and any(line.is_logged for line in components)
    try:
        requested = _parse_volume(volume_ml)
    except ChemistryError as exc:
        result["volume_error"] = f"{exc}; showing the recipe's own volume"
        requested = None
    try:
        library = library if library is not None else library_from_db()
        _BUILDERS[kind](result, components, [line for line in lines if line.param.role == SOLVENT], library, requested)
        if extend is not None:
            extend(result, library)
    except ChemistryError as exc:
        result["error"] = str(exc)
    return result


# --- builders, one per kind --------------------------------------------------------------------------

def _actual_parts(result: dict[str, Any], components: list[_Line], library: ReagentLibrary, solvent_ml: float | None,
                  scale: float) -> list[Component | None]:
    """The run's logged amounts as Components; None where nothing was logged (with a warning when
    other amounts were logged, since the actual composition then assumes the plan for that one)."""
    parts: list[Component | None] = []
    for line in components:
        if line.is_logged:
            parts.append(_component(line, line.actual, line.actual_unit, library, solvent_ml))
        else:
            parts.append(None)
            if result["has_actual"]:
                result["warnings"].append(f"{line.where}: no actual amount logged; the actual composition assumes the plan")
    return parts


def _fill_solution(result: dict[str, Any], components: list[_Line], solvents: list[_Line], library: ReagentLibrary,
                   requested_ml: float | None) -> None:
    recipe_ml = _solvent_ml(solvents)
    if not recipe_ml > 0:
        raise ChemistryError("this recipe gives no solvent volume, so molarities are undefined; "
                             "add the solvent as a parameter with role 'solvent' and its volume in mL")
    run_ml = result["run_volume_ml"] or recipe_ml
    target_ml = requested_ml or run_ml
    scale, run_scale = target_ml / recipe_ml, run_ml / recipe_ml
    planned = [_component(line, line.planned, line.unit, library, recipe_ml) for line in components]
    shown = scale_components(planned, scale)
    planned_comp = composition(shown, target_ml, library=library)
    result.update(volume_ml=target_ml, recipe_volume_ml=recipe_ml, scale=scale, composition=planned_comp.to_dict(),
                  formula=planned_comp.formula, n=planned_comp.to_dict()["n"])
    result["solvent"] = " + ".join(_reagent_name(line, library) for line in solvents)
    result["solvents"] = [_solvent_row(line, library, scale) for line in solvents]
    result["warnings"].extend(planned_comp.warnings)

    actual_comp = None
    actual_parts: list[Component | None] = [None] * len(components)
    if result["has_actual"]:
        actual_ml = _actual_solvent_ml(solvents, run_scale)
        actual_parts = _actual_parts(result, components, library, actual_ml, run_scale)
        filled = [a if a is not None else p.scaled(run_scale) for a, p in zip(actual_parts, planned, strict=True)]
        actual_comp = composition(filled, actual_ml, library=library)
        result["actual_composition"] = actual_comp.to_dict()
        result["warnings"].extend(f"actual: {w}" for w in actual_comp.warnings)
    result["contents"] = merge_rows(_solution_quantities(planned_comp, library),
                                     _solution_quantities(actual_comp, library) if actual_comp else None)
    result["weigh"] = [_weigh_row(line, part, actual, p.scaled(run_scale), p.given_as)
                       for line, part, actual, p in zip(components, shown, actual_parts, planned, strict=True)]


def _solvent_row(line: _Line, library: ReagentLibrary, scale: float) -> dict[str, Any]:
    ml = _volume_ml(line.planned, line.unit, line.where) * scale if line.planned is not None else None
    return {"name": _reagent_name(line, library), "parameter": line.param.name, "ml": ml, "text": format_value(ml, "mL"),
            "actual_given": f"{format_value(line.actual)} {line.actual_unit}".strip() if line.is_logged else ""}


def _solution_quantities(comp: Composition, library: ReagentLibrary) -> list[_Quantity]:
    """Ion molarities, fractions, ratios to the B site, ⟨n⟩ and formula (PROCESS.md §4 "Derived")."""
    out: list[_Quantity] = []
    for symbol, molar in comp.ion_molarities_m.items():
        if library.ion(symbol).role in LATTICE_ROLES:  # H⁺, carbonate, acetate do not stay in the film
            out.append((f"ion:{symbol}", _ion_label(symbol, library), "M", molar))
    if len(comp.b_site_fractions) > 1:
        out.append(("b_total", "[B] all B-site metals", "M", comp.b_molarity_m))
    for key, fractions in (("halide", comp.halide_fractions), ("a_site", comp.a_site_fractions),
                           ("b_site", comp.b_site_fractions), ("spacer", comp.spacer_fractions)):
        if len(fractions) > 1:
            together = "+".join(fractions)
            out.extend((f"{key}:{s}", f"{s}/({together})", RATIO_UNIT, f) for s, f in fractions.items())
    if comp.ratios:
        b = "+".join(comp.b_site_fractions) or "B"
        named = {"X/B": "+".join(comp.halide_fractions), "A/B": "+".join(comp.a_site_fractions),
                 "spacer/B": "+".join(comp.spacer_fractions)}
        for ratio, value in comp.ratios.items():
            top = named.get(ratio) or ""
            top = f"({top})" if "+" in top else top
            b_text = f"({b})" if "+" in b else b
            out.append((f"ratio:{ratio}", f"{ratio} = {top}/{b_text}" if top else ratio, RATIO_UNIT, value))
        out.append(("n", "⟨n⟩ = 2·B/spacer (layers of octahedra)", "layers", comp.n))
    if comp.formula:
        out.append(("formula", "Formula (L₂Aₙ₋₁BₙX₃ₙ₊₁)", "", comp.formula))
    return out


def _fill_cs_oleate(result: dict[str, Any], components: list[_Line], solvents: list[_Line], library: ReagentLibrary,
                    requested_ml: float | None) -> None:
    """[Cs] of the Cs-oleate stock (PROCESS.md §1: 300 mg Cs2CO3 in 1.2 mL OAc + 3.2 mL ODE → 0.4185 M)."""
    carbonate = library.get("Cs2CO3")
    if len(components) != 1 or _reagent_name(components[0], library) != carbonate.name:
        names = ", ".join(_reagent_name(line, library) for line in components)
        raise ChemistryError(f"a Cs-oleate recipe has Cs2CO3 as its one component (got {names})")
    line = components[0]
    oleic = library.get("OAc").name

    def stock(mg: float, volumes: list[tuple[_Line, float]]) -> Any:
        # the helper sums the two volumes; it only needs the oleic acid apart for its own check
        acid = sum(ml for s, ml in volumes if _reagent_name(s, library) == oleic)
        return cs_oleate(mg, acid, sum(ml for _, ml in volumes) - acid, library=library)

    recipe_ml = _solvent_ml(solvents)
    if not recipe_ml > 0:
        raise ChemistryError("a Cs-oleate recipe needs its oleic acid and ODE volumes (role 'solvent', in mL)")
    run_ml = result["run_volume_ml"] or recipe_ml
    target_ml = requested_ml or run_ml
    scale, run_scale = target_ml / recipe_ml, run_ml / recipe_ml
    planned = _component(line, line.planned, line.unit, library, recipe_ml)
    planned_stock = stock(planned.mass_mg, [(s, _volume_ml(s.planned, s.unit, s.where)) for s in solvents])
    result.update(volume_ml=target_ml, recipe_volume_ml=recipe_ml, scale=scale,
                  solvent=" + ".join(_reagent_name(s, library) for s in solvents),
                  solvents=[_solvent_row(s, library, scale) for s in solvents])

    def quantities(cs: Any, factor: float) -> list[_Quantity]:
        return [("ion:Cs", "[Cs⁺] in the Cs-oleate", "M", cs.cs_molarity_m),
                ("cs2co3_mmol", "Cs₂CO₃", "mmol", cs.cs2co3_mmol * factor),
                ("cs_mmol", "Cs", "mmol", cs.cs_mmol * factor),
                ("volume", "OAc + ODE", "mL", cs.volume_ml * factor)]

    actual_q, actual = None, None
    if result["has_actual"]:
        actual = _component(line, line.actual, line.actual_unit, library, None)
        volumes = [(s, _volume_ml(s.actual, s.actual_unit, s.where) if s.is_logged
                    else _volume_ml(s.planned, s.unit, s.where) * run_scale) for s in solvents]
        actual_stock = stock(actual.mass_mg, volumes)
        actual_q = quantities(actual_stock, 1.0)
        result["details"]["actual"] = asdict(actual_stock)
    result["details"]["planned"] = asdict(planned_stock)
    result["contents"] = merge_rows(quantities(planned_stock, scale), actual_q)
    result["weigh"] = [_weigh_row(line, planned.scaled(scale), actual, planned.scaled(run_scale), planned.given_as)]


def _fill_hot_injection(result: dict[str, Any], components: list[_Line], solvents: list[_Line], library: ReagentLibrary,
                        requested_ml: float | None) -> None:
    """Nominal Mn:Pb and I:Pb of the flask (PROCESS.md §2: Mn:Pb = 2.82; I from PbI2 + ZnI2 =
    3.123 mmol, + 2.273 mmol from HI). Ratios do not depend on scale, so there is no volume."""
    planned = [_component(line, line.planned, line.unit, library, None) for line in components]
    planned_ratios = hot_injection_ratios(planned, library=library)
    result["solvent"] = " + ".join(_reagent_name(s, library) for s in solvents)
    result["details"]["planned"] = planned_ratios.to_dict()

    actual_parts: list[Component | None] = [None] * len(components)
    actual_q = None
    if result["has_actual"]:
        actual_parts = _actual_parts(result, components, library, None, 1.0)
        filled = [a if a is not None else p for a, p in zip(actual_parts, planned, strict=True)]
        actual_ratios = hot_injection_ratios(filled, library=library)
        actual_q = _hot_injection_quantities(actual_ratios, library)
        result["details"]["actual"] = actual_ratios.to_dict()
    result["contents"] = merge_rows(_hot_injection_quantities(planned_ratios, library), actual_q)
    result["weigh"] = [_weigh_row(line, part, actual)
                       for line, part, actual in zip(components, planned, actual_parts, strict=True)]


def _hot_injection_quantities(ratios: Any, library: ReagentLibrary) -> list[_Quantity]:
    out: list[_Quantity] = [("pb_mmol", "Pb in the flask", "mmol", ratios.pb_mmol)]
    for symbol in sorted(ratios.ratios_to_pb, key=library.ion_order):
        out.append((f"ratio:{symbol}", f"{symbol}:Pb", RATIO_UNIT, ratios.ratios_to_pb[symbol]))
    out.append(("iodide_metal_halides", "I from metal halides", "mmol", ratios.iodide_from_metal_halides_mmol))
    if ratios.iodide_from_acid_mmol:
        out.append(("iodide_acid", "I from acid (HI)", "mmol", ratios.iodide_from_acid_mmol))
    return out


def _fill_ligand_treatment(result: dict[str, Any], components: list[_Line], solvents: list[_Line],
                           library: ReagentLibrary, requested_ml: float | None) -> None:
    """Dose per iteration (PROCESS.md §3: IPAI 250 mg/mL × 0.1 mL → 25 mg, 0.1337 mmol; × 50 µL →
    12.5 mg, 0.0668 mmol; KI 200 mg/mL × 50 µL → 10 mg, 0.0602 mmol)."""
    def dose(line: _Line, value: float | None, unit: str) -> Component:
        if line.param.stock_mg_ml is None:  # a solid added directly: an amount like any other
            return _component(line, value, unit, library, None)
        if value is None:
            raise ChemistryError(f"{line.where}: no volume given")
        try:
            found = ligand_dose(_reagent_name(line, library), line.param.stock_mg_ml, _volume_ml(value, unit, line.where),
                                library=library)
        except ChemistryError as exc:
            raise ChemistryError(f"{line.where}: {exc}") from None
        reagent = library.get(found.reagent)
        return Component(reagent, found.amount_mmol, f"{line.param.stock_mg_ml:g} mg/mL × {value:g} {unit}")

    planned = [dose(line, line.planned, line.unit) for line in components]
    actual_parts: list[Component | None] = [None] * len(components)
    if result["has_actual"]:
        actual_parts = [dose(line, line.actual, line.actual_unit) if line.is_logged else None for line in components]

    def quantities(parts: list[Component | None]) -> list[_Quantity]:
        out: list[_Quantity] = []
        totals: dict[str, float] = {}
        for line, part in zip(components, parts, strict=True):
            if part is None:
                continue
            step = line.param.step
            label = step.name if part.reagent.name in step.name else f"{step.name}: {part.reagent.name}"
            out.append((f"dose:{step.order}:mmol", label, "mmol", part.amount_mmol))
            out.append((f"dose:{step.order}:mg", label, "mg", part.mass_mg))
            totals[part.reagent.name] = totals.get(part.reagent.name, 0.0) + part.amount_mmol
        out.extend((f"total:{name}", f"{name}, all iterations", "mmol", mmol) for name, mmol in totals.items())
        return out

    result["details"]["doses"] = [
        {"step": line.param.step.order, "step_name": line.param.step.name, "reagent": part.reagent.name,
         "mg": part.mass_mg, "mmol": part.amount_mmol, "given_as": part.given_as}
        for line, part in zip(components, planned, strict=True)]
    result["contents"] = merge_rows(quantities(planned), quantities(actual_parts) if result["has_actual"] else None)
    result["weigh"] = [_weigh_row(line, part, actual)
                       for line, part, actual in zip(components, planned, actual_parts, strict=True)]


_BUILDERS: Mapping[str, Callable[..., None]] = {
    SOLUTION: _fill_solution,
    CS_OLEATE: _fill_cs_oleate,
    HOT_INJECTION: _fill_hot_injection,
    LIGAND_TREATMENT: _fill_ligand_treatment,
}
