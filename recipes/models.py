"""Chemicals, lots and versioned recipes.

A recipe is a named template of one step type; its content lives in numbered versions. Once a
process run uses a version the version is frozen (``frozen_at`` set by the run service); an edit
then makes the next version (``recipes.services.recipe_version_revise``) and leaves the old one
intact, so every run keeps pointing at exactly what it followed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from core.models import TimeStamped
from core.units import UNIT_CHOICES, UnitError, canonical_unit


class Chemical(TimeStamped):
    name = models.CharField(max_length=200, unique=True)
    abbreviation = models.CharField(
        max_length=32, blank=True, db_index=True,
        help_text="What the lab calls it (MAI, PEAI, OAc…). Used by the stoichiometry engine.")
    formula = models.CharField(max_length=120, blank=True, help_text="Hill or structural formula, e.g. C6H5CH2CH2NH3I")
    cas = models.CharField("CAS number", max_length=32, blank=True)
    molar_mass_g_mol = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)],
        help_text="Computed from the formula; set by hand only for mixtures without one.")
    density_g_ml = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.0)])
    purity_wt_percent = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)],
        help_text="Assay or wt % of a solution (HI: 57 wt %).")
    ions = models.JSONField(
        default=dict, blank=True,
        help_text='Ion split for the stoichiometry engine, e.g. {"Pb": 1, "Br": 2}; empty for solvents.')
    hazards = models.CharField(max_length=300, blank=True, help_text="GHS hazard statements or pictograms")
    is_solvent = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.abbreviation})" if self.abbreviation else self.name

    @property
    def short(self) -> str:
        return self.abbreviation or self.formula or self.name

    def clean(self) -> None:
        if self.purity_wt_percent is not None and self.purity_wt_percent > 100:
            raise ValidationError({"purity_wt_percent": "A purity above 100 wt % is impossible."})
        if self.formula and not self.molar_mass_g_mol:
            from .chemistry_bridge import molar_mass_from_formula

            try:
                self.molar_mass_g_mol = molar_mass_from_formula(self.formula)
            except ValueError as exc:
                raise ValidationError({"formula": str(exc)}) from None


class ChemicalLot(TimeStamped):
    chemical = models.ForeignKey(Chemical, on_delete=models.PROTECT, related_name="lots")
    supplier = models.CharField(max_length=120)
    lot_number = models.CharField(max_length=80)
    catalog_number = models.CharField(max_length=80, blank=True)
    received_on = models.DateField(null=True, blank=True)
    opened_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=120, blank=True, help_text="Glovebox 1, shelf B…")
    amount_left = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.0)])
    amount_unit = models.CharField(max_length=8, choices=UNIT_CHOICES, blank=True, default="g")
    is_active = models.BooleanField(default=True, help_text="Untick when used up; lots are never deleted.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["chemical__name", "-received_on"]
        constraints = [
            models.UniqueConstraint(fields=["chemical", "supplier", "lot_number"], name="unique_lot"),
        ]

    def __str__(self) -> str:
        return f"{self.chemical.short} lot {self.lot_number} ({self.supplier})"

    def is_expired_on(self, day) -> bool:
        """Past its expiry date on ``day`` (a date; a run's planned date, or today)."""
        return self.expires_on is not None and day is not None and self.expires_on < day

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.is_expired_on(timezone.localdate())

    @property
    def choice_label(self) -> str:
        """How the lot reads in a picker: an expired one says so (issue 14: expired lots were offered silently)."""
        text = str(self)
        if self.is_expired:
            text += f" — EXPIRED {self.expires_on:%Y-%m-%d}"
        elif self.expires_on:
            text += f" · expires {self.expires_on:%Y-%m-%d}"
        if self.amount_left is not None and self.amount_left < 0:
            text += f" — {self.amount_left:g} {self.amount_unit} left (more used than recorded)"
        return text

    def clean(self) -> None:
        if self.received_on and self.expires_on and self.expires_on < self.received_on:
            raise ValidationError({"expires_on": "Expires before it was received."})
        if self.amount_left is not None and not self.amount_unit:
            raise ValidationError({"amount_unit": "An amount needs a unit."})


class StepType(models.TextChoices):
    CS_OLEATE = "cs_oleate", "Cs-oleate precursor"
    QD_SYNTHESIS = "qd_synthesis", "Hot-injection QD synthesis"
    LIGAND_TREATMENT = "ligand_treatment", "Ligand (surface) treatment"
    PRECURSOR_SOLUTION = "precursor_solution", "Perovskite precursor solution"
    SUBSTRATE_CLEANING = "substrate_cleaning", "Substrate cleaning"
    SPIN_COATING = "spin_coating", "Spin-coating"
    THERMAL_EVAPORATION = "thermal_evaporation", "Thermal evaporation"
    DEVICE_ARCHITECTURE = "device_architecture", "Device architecture"


class Recipe(TimeStamped):
    name = models.CharField(max_length=200, unique=True)
    step_type = models.CharField(max_length=32, choices=StepType.choices, db_index=True)
    output_kind = models.CharField(
        max_length=32, blank=True,
        help_text="Sample kind a run of this recipe produces (samples.SampleKind).")
    description = models.TextField(blank=True)
    reference = models.CharField(max_length=300, blank=True, help_text="Paper, DOI or SOP")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def latest_version(self) -> RecipeVersion | None:
        return self.versions.order_by("-number").first()


class RecipeVersion(TimeStamped):
    recipe = models.ForeignKey(Recipe, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    notes = models.TextField(blank=True, help_text="What changed from the previous version and why")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    frozen_at = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="Set when the first run used this version; a frozen version is never edited.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["recipe__name", "-number"]
        constraints = [models.UniqueConstraint(fields=["recipe", "number"], name="unique_recipe_version")]

    def __str__(self) -> str:
        return f"{self.recipe.name} v{self.number}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def label(self) -> str:
        return f"v{self.number}"


class RecipeStep(models.Model):
    """One ordered step of a version: a spin step, a drip, an anneal, a component to add…"""

    class Action(models.TextChoices):
        ADD = "add", "Add / weigh"
        MIX = "mix", "Mix / stir / dissolve"
        HEAT = "heat", "Heat / dry"
        INJECT = "inject", "Inject"
        QUENCH = "quench", "Quench"
        WASH = "wash", "Wash / centrifuge / redisperse"
        TREAT = "treat", "Ligand treatment iteration"
        SPIN = "spin", "Spin step"
        DRIP = "drip", "Drip (antisolvent / QD ink)"
        ANNEAL = "anneal", "Anneal"
        EVAPORATE = "evaporate", "Evaporate"
        LAYER = "layer", "Device layer"
        CLEAN = "clean", "Clean"
        FILTER = "filter", "Filter"
        OTHER = "other", "Other"

    version = models.ForeignKey(RecipeVersion, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.OTHER)
    instructions = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "order"]
        constraints = [models.UniqueConstraint(fields=["version", "order"], name="unique_step_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class RecipeParameter(models.Model):
    """A typed value with a unit; a nominal number may carry a min–max range ("0.8–0.9 mL")."""

    class ValueType(models.TextChoices):
        NUMBER = "number", "Number"
        TEXT = "text", "Text"
        BOOLEAN = "boolean", "Yes/No"

    class Role(models.TextChoices):
        SETTING = "setting", "Process setting"
        COMPONENT = "component", "Component (reagent amount)"
        SOLVENT = "solvent", "Solvent volume"
        MATERIAL = "material", "Layer material / thickness"
        OUTCOME = "outcome", "Expected outcome"

    step = models.ForeignKey(RecipeStep, on_delete=models.CASCADE, related_name="parameters")
    order = models.PositiveIntegerField(default=0)
    key = models.SlugField(max_length=64, help_text="Stable machine name, e.g. speed, time, volume, mass")
    name = models.CharField(max_length=120)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SETTING)
    value_type = models.CharField(max_length=8, choices=ValueType.choices, default=ValueType.NUMBER)
    nominal = models.FloatField(null=True, blank=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    text_value = models.CharField(max_length=300, blank=True)
    unit = models.CharField(max_length=12, choices=UNIT_CHOICES, blank=True)
    chemical = models.ForeignKey(Chemical, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    stock_mg_ml = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)],
        help_text="For a dose taken from a stock solution (IPAI 250 mg/mL): the stock concentration.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["step", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["step", "key"], name="unique_param_key")]

    def __str__(self) -> str:
        return f"{self.name}: {self.display_value}"

    @property
    def has_range(self) -> bool:
        return self.min_value is not None or self.max_value is not None

    @property
    def display_value(self) -> str:
        from .formatting import format_planned

        return format_planned(self.nominal, self.min_value, self.max_value, self.unit, self.text_value, self.value_type)

    def clean(self) -> None:
        errors = {}
        if self.value_type == self.ValueType.NUMBER:
            if self.nominal is None and not self.has_range:
                errors["nominal"] = "A number parameter needs a nominal value or a range."
            try:
                self.unit = canonical_unit(self.unit)
            except UnitError as exc:
                errors["unit"] = str(exc)
            lo, hi = self.min_value, self.max_value
            if lo is not None and hi is not None and lo > hi:
                errors["max_value"] = f"The range is upside down: min {lo} > max {hi}."
            if self.nominal is not None:
                if lo is not None and self.nominal < lo or hi is not None and self.nominal > hi:
                    errors["nominal"] = "The nominal value lies outside its own range."
            if self.role in (self.Role.COMPONENT, self.Role.SOLVENT):
                for field in ("nominal", "min_value", "max_value"):
                    value = getattr(self, field)
                    if value is not None and value < 0:
                        errors[field] = "An amount cannot be negative."
        if self.role == self.Role.COMPONENT and self.chemical_id is None:
            errors["chemical"] = "A component names its chemical."
        if errors:
            raise ValidationError(errors)
