"""Writes for chemicals and recipes. Views, admin, API and load_demo call these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from .models import Chemical, ChemicalLot, Recipe, RecipeParameter, RecipeStep, RecipeVersion


class FrozenVersionError(ValidationError):
    pass


@dataclass
class ParamSpec:
    key: str
    name: str
    nominal: float | None = None
    unit: str = ""
    min_value: float | None = None
    max_value: float | None = None
    role: str = RecipeParameter.Role.SETTING
    value_type: str = RecipeParameter.ValueType.NUMBER
    text_value: str = ""
    chemical: Chemical | None = None
    stock_mg_ml: float | None = None


@dataclass
class StepSpec:
    name: str
    action: str = RecipeStep.Action.OTHER
    instructions: str = ""
    params: list[ParamSpec] = field(default_factory=list)


def chemical_get_or_create(*, name: str, **fields: Any) -> Chemical:
    chemical = Chemical.objects.filter(name=name).first()
    if chemical is None:
        chemical = Chemical(name=name, **fields)
        chemical.full_clean()
        chemical.save()
    return chemical


CHEMICAL_FIELDS = ("name", "abbreviation", "formula", "cas", "molar_mass_g_mol", "density_g_ml",
                   "purity_wt_percent", "ions", "hazards", "is_solvent")
LOT_FIELDS = ("supplier", "lot_number", "catalog_number", "received_on", "opened_on", "expires_on", "location",
              "amount_left", "amount_unit", "is_active")
# A typed molar mass may differ from the formula's by rounding, not by a different compound.
MOLAR_MASS_TOLERANCE = 0.005


def chemical_save(chemical: Chemical | None = None, **fields: Any) -> Chemical:
    """Create (``chemical`` None) or edit a chemical (history kept by django-simple-history).

    With a formula the molar mass is the formula's (``chemistry_bridge.molar_mass_from_formula``,
    molmass through the stoichiometry engine): a molar mass left blank is computed, and one typed
    that disagrees by more than 0.5 % is refused rather than stored beside a formula that says
    otherwise. Without a formula (a polymer, a mixture) the typed molar mass stands."""
    from .chemistry_bridge import molar_mass_from_formula

    unknown = set(fields) - set(CHEMICAL_FIELDS)
    if unknown:
        raise TypeError(f"not chemical fields: {sorted(unknown)}")
    chemical = chemical if chemical is not None else Chemical()
    for name, value in fields.items():
        setattr(chemical, name, value)
    if chemical.formula:
        try:
            computed = molar_mass_from_formula(chemical.formula)
        except ValueError as exc:
            raise ValidationError({"formula": str(exc)}) from None
        typed = fields.get("molar_mass_g_mol")
        if typed and abs(typed - computed) > MOLAR_MASS_TOLERANCE * computed:
            raise ValidationError({"molar_mass_g_mol": (
                f"The formula {chemical.formula} gives {computed:.2f} g/mol, not {typed:g}: "
                "leave the molar mass blank or correct the formula.")})
        chemical.molar_mass_g_mol = computed
    chemical.full_clean()
    chemical.save()
    return chemical


def lot_save(lot: ChemicalLot | None = None, *, chemical: Chemical | None = None, **fields: Any) -> ChemicalLot:
    """Create a lot of ``chemical`` (``lot`` None) or edit one. Only the lot's own record: what runs
    took from it stays in its LotUsage rows (samples.services), and an edited ``amount_left`` is
    the corrected amount in the bottle."""
    unknown = set(fields) - set(LOT_FIELDS)
    if unknown:
        raise TypeError(f"not lot fields: {sorted(unknown)}")
    if lot is None:
        if chemical is None:
            raise ValidationError({"chemical": "A lot belongs to a chemical."})
        lot = ChemicalLot(chemical=chemical)
    before = lot.amount_left
    for name, value in fields.items():
        setattr(lot, name, value)
    # A remainder below zero left by runs (more used than recorded) is a warning, not an error:
    # editing the lot's supplier or expiry must not demand that it be corrected first.
    kept_negative = lot.pk is not None and before is not None and before < 0 and lot.amount_left == before
    lot.full_clean(exclude=["amount_left"] if kept_negative else None)
    lot.save()
    return lot


def _add_steps(version: RecipeVersion, steps: list[StepSpec]) -> None:
    """Validate every step and parameter in Python, then write them in two bulk inserts with their
    history rows. A save() (and a historical row) per parameter made recipe_create slow: a recipe
    has tens of parameters.

    Uniqueness is not re-checked by queries: (version, order) is unique because the orders are
    numbered here, (step, key) is checked below, and both UniqueConstraints still guard the table.
    Foreign keys are validated by the database's FK constraints; ``chemical`` is skipped in
    clean_fields because its check is a SELECT per parameter."""
    step_objs, param_objs = [], []
    for order, spec in enumerate(steps, start=1):
        step = RecipeStep(version=version, order=order, name=spec.name, action=spec.action, instructions=spec.instructions)
        step.full_clean(exclude=["version"], validate_unique=False, validate_constraints=False)
        step_objs.append(step)
        seen = set()
        for p_order, p in enumerate(spec.params, start=1):
            if p.key in seen:
                raise ValidationError({"key": f"Step {order} ({spec.name}) has the parameter key {p.key!r} twice."})
            seen.add(p.key)
            if p.chemical is not None and p.chemical.pk is None:
                raise ValidationError({"chemical": f"{p.chemical} is not saved."})
            param = RecipeParameter(
                step=step, order=p_order, key=p.key, name=p.name, role=p.role, value_type=p.value_type,
                nominal=p.nominal, min_value=p.min_value, max_value=p.max_value, unit=p.unit,
                text_value=p.text_value, chemical=p.chemical, stock_mg_ml=p.stock_mg_ml,
            )
            param.full_clean(exclude=["step", "chemical"], validate_unique=False, validate_constraints=False)
            param_objs.append(param)
    bulk_create_with_history(step_objs, RecipeStep)
    bulk_create_with_history(param_objs, RecipeParameter)  # bulk_create copies each step's new pk to step_id


@transaction.atomic
def recipe_create(*, name: str, step_type: str, steps: list[StepSpec], output_kind: str = "",
                  description: str = "", reference: str = "", user=None, notes: str = "") -> RecipeVersion:
    recipe = Recipe(name=name, step_type=step_type, output_kind=output_kind, description=description,
                    reference=reference, created_by=user)
    recipe.full_clean()
    recipe.save()
    version = RecipeVersion.objects.create(recipe=recipe, number=1, notes=notes or "First version", created_by=user)
    _add_steps(version, steps)
    return version


def recipe_version_steps_as_specs(version: RecipeVersion) -> list[StepSpec]:
    steps = []
    for step in version.steps.prefetch_related("parameters__chemical"):
        params = [
            ParamSpec(key=p.key, name=p.name, nominal=p.nominal, unit=p.unit, min_value=p.min_value,
                      max_value=p.max_value, role=p.role, value_type=p.value_type, text_value=p.text_value,
                      chemical=p.chemical, stock_mg_ml=p.stock_mg_ml)
            for p in step.parameters.all()
        ]
        steps.append(StepSpec(name=step.name, action=step.action, instructions=step.instructions, params=params))
    return steps


@transaction.atomic
def recipe_version_revise(version: RecipeVersion, *, changes: dict[str, dict[str, Any]] | None = None,
                          steps: list[StepSpec] | None = None, notes: str = "", user=None) -> RecipeVersion:
    """Make the next version of ``version``'s recipe.

    Either ``steps`` replaces the content, or ``changes`` maps a parameter key path
    ``"<step order>.<param key>"`` to the fields to change. The old version is left intact."""
    specs = steps if steps is not None else recipe_version_steps_as_specs(version)
    for path, fields in (changes or {}).items():
        order_str, _, key = path.partition(".")
        try:
            step = specs[int(order_str) - 1]
            param = next(p for p in step.params if p.key == key)
        except (ValueError, IndexError, StopIteration):
            raise ValidationError(f"No parameter {path!r} in {version}") from None
        for name, value in fields.items():
            setattr(param, name, value)
    latest = version.recipe.versions.select_for_update().order_by("-number").first()
    new = RecipeVersion.objects.create(recipe=version.recipe, number=latest.number + 1,
                                       notes=notes or f"Revised from v{version.number}", created_by=user)
    _add_steps(new, specs)
    return new


def recipe_parameter_update(param: RecipeParameter, **fields: Any) -> RecipeParameter:
    """In-place edit, allowed only while no run used the version."""
    if param.step.version.is_frozen:
        raise FrozenVersionError(
            f"{param.step.version} is frozen (used by a run): create a new version instead.")
    for name, value in fields.items():
        setattr(param, name, value)
    param.full_clean()
    param.save()
    return param


def version_diff(old: RecipeVersion, new: RecipeVersion) -> list[dict[str, Any]]:
    """Parameter-level differences between two versions: added, removed, changed (planned text)."""

    def table(version):
        out = {}
        for step in version.steps.prefetch_related("parameters"):
            for p in step.parameters.all():
                out[(step.name, p.key)] = (p.name, p.display_value)
        return out

    a, b = table(old), table(new)
    rows = []
    for key in list(a) + [k for k in b if k not in a]:
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        rows.append({
            "step": key[0], "parameter": (after or before)[0],
            "before": before[1] if before else None, "after": after[1] if after else None,
            "change": "added" if before is None else "removed" if after is None else "changed",
        })
    return rows
