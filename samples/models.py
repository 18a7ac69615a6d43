"""Projects, process runs (planned vs actual) and samples with their lineage.

Lineage is a DAG stored as parent links; ``Sample.ancestors()``/``descendants()`` walk it with
one recursive CTE each (SQLite and PostgreSQL both support WITH RECURSIVE), so the number of
queries does not grow with the number of generations.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import RawSQL
from django.db.models.functions import Upper
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.models import TimeStamped
from core.units import UNIT_CHOICES, UnitError, convert
from recipes.models import ChemicalLot, RecipeParameter, RecipeVersion


class Project(TimeStamped):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="ledger_projects")
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SampleKind(models.TextChoices):
    CS_OLEATE = "cs_oleate", "Cs-oleate"
    QD_BATCH = "qd_batch", "QD batch"
    QD_INK = "qd_ink", "Treated QD ink"
    PRECURSOR = "precursor_solution", "Precursor solution"
    SOLUTION = "solution", "Other solution"
    SUBSTRATE = "substrate", "Substrate"
    FILM = "film", "Film"
    DEVICE = "device", "Device"
    OTHER = "other", "Other (imported from another ELN)"


LABEL_PREFIX = {
    SampleKind.CS_OLEATE: "CSO",
    SampleKind.QD_BATCH: "QD",
    SampleKind.QD_INK: "INK",
    SampleKind.PRECURSOR: "PRE",
    SampleKind.SOLUTION: "SOL",
    SampleKind.SUBSTRATE: "SUB",
    SampleKind.FILM: "FILM",
    SampleKind.DEVICE: "DEV",
    SampleKind.OTHER: "ELN",
}


class SampleStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    WAITING = "waiting", "Waiting for next step"
    MEASURED = "measured", "Measured"
    CONSUMED = "consumed", "Used up"
    DISCARDED = "discarded", "Discarded"


MAX_RUN_OUTPUTS = 96  # a 96-well plate; the form and the API refuse more


class RunStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    ABORTED = "aborted", "Aborted"


class ProcessRun(TimeStamped):
    """One execution of a recipe version: who, when, in what conditions, with which lots."""

    label = models.CharField(max_length=32, unique=True, editable=False)
    recipe_version = models.ForeignKey(RecipeVersion, on_delete=models.PROTECT, related_name="runs")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="runs")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PLANNED, db_index=True)
    planned_date = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    glovebox_o2_ppm = models.FloatField("glovebox O₂ (ppm)", null=True, blank=True)
    glovebox_h2o_ppm = models.FloatField("glovebox H₂O (ppm)", null=True, blank=True)
    temperature_c = models.FloatField("temperature (°C)", null=True, blank=True)
    humidity_percent = models.FloatField("relative humidity (%)", null=True, blank=True)
    batch_volume_ml = models.FloatField(
        null=True, blank=True, help_text="Scale of a solution run; the what-to-weigh table uses it.")
    planned_scale = models.FloatField(
        default=1.0, editable=False,
        help_text="Factor the recipe's amounts were multiplied by for this run's planned values: "
                  "batch_volume_ml / the recipe's own solvent volume (1 when not scaled).")
    # What completing the run will create, decided when it is planned (so a log page that saves a
    # first O₂ reading has nothing to guess, and completing is its own explicit step).
    planned_outputs = models.PositiveSmallIntegerField(
        default=1, help_text="How many output samples completing the run creates (a batch of N substrates: N).")
    planned_output_kind = models.CharField(
        max_length=32, choices=SampleKind.choices, blank=True,
        help_text="Kind of the outputs; blank: the recipe's output kind.")
    planned_output_names = models.JSONField(
        default=list, blank=True, help_text="Names of the outputs in order (fewer than the count: the rest unnamed).")
    planned_output_location = models.CharField(max_length=120, blank=True, help_text="Where the outputs will be kept.")
    lots = models.ManyToManyField(ChemicalLot, blank=True, related_name="runs")
    inputs = models.ManyToManyField("Sample", blank=True, related_name="consumed_by_runs",
                                    help_text="Samples that went into the run (parents of its outputs).")
    notes = models.TextField(blank=True)
    # Set when a metric of a sample this run made, or of one made from those, is first stored
    # (samples.services.runs_mark_measured, called by the measurement pipeline): the insights pages
    # chart the newest *measured* runs of each version without walking a decade's lineage down.
    first_measured_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords(m2m_fields=[lots, inputs])

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # A project's runs newest first (a member's run list); the label search's iexact.
            models.Index(fields=["project", "created_at"], name="run_project_created"),
            models.Index(Upper("label"), name="run_label_upper"),
            # The insights stamp's newest edit of any run: index-only, not a scan of every run.
            models.Index(fields=["updated_at"], name="run_updated_at"),
        ]

    def __str__(self) -> str:
        return f"{self.label} · {self.recipe_version}"

    def get_absolute_url(self) -> str:
        return reverse("run-detail", args=[self.pk])

    def clean(self) -> None:
        errors = {}
        for field in ("glovebox_o2_ppm", "glovebox_h2o_ppm", "humidity_percent", "batch_volume_ml"):
            value = getattr(self, field)
            if value is not None and value < 0:
                errors[field] = "Cannot be negative."
        if self.batch_volume_ml == 0:
            errors["batch_volume_ml"] = "A batch volume is more than 0 mL (leave it blank for the recipe's volume)."
        if self.humidity_percent is not None and self.humidity_percent > 100:
            errors["humidity_percent"] = "Relative humidity cannot exceed 100 %."
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            errors["finished_at"] = "Finished before it started."
        if not 1 <= (self.planned_outputs or 0) <= MAX_RUN_OUTPUTS:
            errors["planned_outputs"] = f"A run produces between 1 and {MAX_RUN_OUTPUTS} samples."
        names = self.planned_output_names
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            errors["planned_output_names"] = "A list of names."
        elif len(names) > (self.planned_outputs or 0):
            errors["planned_output_names"] = (f"{len(names)} names for {self.planned_outputs} output(s): "
                                              "give at most one name per output.")
        if errors:
            raise ValidationError(errors)

    @property
    def output_kind(self) -> str:
        """The kind completing the run creates: the planned one, else the recipe's."""
        return self.planned_output_kind or self.recipe_version.recipe.output_kind

    @property
    def output_kind_display(self) -> str:
        kind = self.output_kind
        return SampleKind(kind).label if kind in SampleKind.values else (kind or "")

    def planned_output_rows(self) -> list[dict]:
        """What completing the run will create, one row per sample (the confirmation lists them)."""
        kind = self.output_kind
        kind_label = SampleKind(kind).label if kind in SampleKind.values else (kind or "")
        names = list(self.planned_output_names or [])
        return [{"n": i + 1, "kind": kind, "kind_label": kind_label, "prefix": LABEL_PREFIX.get(kind, "S"),
                 "name": names[i] if i < len(names) else "", "location": self.planned_output_location}
                for i in range(self.planned_outputs)]

    @property
    def deviation_count(self) -> int:
        return sum(1 for v in self.values.all() if v.is_deviation)


class RunValue(models.Model):
    """A parameter of the run: the planned value copied from the recipe beside the actual one.

    ``is_deviation`` is computed by ``samples.services.run_value_set_actual`` from the range (or
    the default tolerance), never typed in."""

    run = models.ForeignKey(ProcessRun, on_delete=models.CASCADE, related_name="values")
    parameter = models.ForeignKey(RecipeParameter, on_delete=models.PROTECT, related_name="+")
    planned_nominal = models.FloatField(null=True, blank=True)
    planned_min = models.FloatField(null=True, blank=True)
    planned_max = models.FloatField(null=True, blank=True)
    planned_text = models.CharField(max_length=300, blank=True)
    unit = models.CharField(max_length=12, choices=UNIT_CHOICES, blank=True)
    actual_value = models.FloatField(null=True, blank=True)
    actual_unit = models.CharField(max_length=12, choices=UNIT_CHOICES, blank=True)
    actual_text = models.CharField(max_length=300, blank=True)
    is_deviation = models.BooleanField(default=False, editable=False, db_index=True)
    note = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["run", "parameter__step__order", "parameter__order", "parameter_id"]
        constraints = [models.UniqueConstraint(fields=["run", "parameter"], name="unique_run_value")]

    def __str__(self) -> str:
        return f"{self.run.label} {self.parameter.name}"

    @property
    def planned_display(self) -> str:
        from recipes.formatting import format_planned

        return format_planned(self.planned_nominal, self.planned_min, self.planned_max, self.unit,
                              self.planned_text, self.parameter.value_type)

    @property
    def actual_display(self) -> str:
        from recipes.formatting import format_number

        if self.actual_value is None:
            return self.actual_text
        return f"{format_number(self.actual_value)} {self.actual_unit}".strip()

    def actual_in_planned_unit(self) -> float | None:
        if self.actual_value is None:
            return None
        return convert(self.actual_value, self.actual_unit or self.unit, self.unit)

    def compute_deviation(self, default_tolerance: float) -> bool:
        """True when the actual value leaves the planned range (or nominal ± tolerance)."""
        if self.actual_value is None:
            return False
        try:
            actual = self.actual_in_planned_unit()
        except UnitError:
            return True
        lo, hi = self.planned_min, self.planned_max
        if lo is None and hi is None:
            if self.planned_nominal is None:
                return False
            slack = abs(self.planned_nominal) * default_tolerance
            lo, hi = self.planned_nominal - slack, self.planned_nominal + slack
        eps = 1e-9 * max(1.0, abs(actual))
        return (lo is not None and actual < lo - eps) or (hi is not None and actual > hi + eps)

    def clean(self) -> None:
        if self.actual_value is not None:
            if self.unit and not self.actual_unit:
                raise ValidationError({"actual_unit": f"Give the unit of the actual value (planned in {self.unit})."})
            try:
                self.actual_in_planned_unit()
            except UnitError as exc:
                raise ValidationError({"actual_unit": str(exc)}) from None
            if self.parameter.role in (RecipeParameter.Role.COMPONENT, RecipeParameter.Role.SOLVENT) and self.actual_value < 0:
                raise ValidationError({"actual_value": "An amount cannot be negative."})


class SampleQuerySet(models.QuerySet):
    """Samples' queries; who may see which is ``core.access.restrict`` alone."""


class Sample(TimeStamped):
    label = models.CharField(max_length=32, unique=True, editable=False)
    kind = models.CharField(max_length=32, choices=SampleKind.choices, db_index=True)
    name = models.CharField(max_length=200, blank=True, help_text="Free description, e.g. 'Mn-CsPbI3 QDs, batch 3'")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="samples")
    produced_by = models.ForeignKey(ProcessRun, null=True, blank=True, on_delete=models.PROTECT, related_name="outputs")
    parents = models.ManyToManyField("self", symmetrical=False, blank=True, through="SampleParent",
                                     related_name="children")
    status = models.CharField(max_length=16, choices=SampleStatus.choices, default=SampleStatus.ACTIVE, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="samples")
    location = models.CharField(max_length=120, blank=True)
    amount = models.FloatField(null=True, blank=True, help_text="How much is left (volume or mass)")
    amount_unit = models.CharField(max_length=12, choices=UNIT_CHOICES, blank=True)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    objects = SampleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # A project's samples newest first; the label search's iexact (UPPER(label) = UPPER(…)).
            # Free-text icontains has trigram indexes on PostgreSQL (migration 0003_scale_indexes).
            models.Index(fields=["project", "-created_at", "-id"], name="sample_project_created"),
            models.Index(Upper("label"), name="sample_label_upper"),
        ]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("sample-detail", args=[self.label])

    def clean(self) -> None:
        if self.amount is not None and self.amount < 0:
            raise ValidationError({"amount": "An amount cannot be negative."})
        if self.amount is not None and not self.amount_unit:
            raise ValidationError({"amount_unit": "An amount needs a unit."})

    # --- lineage -------------------------------------------------------------------------
    _ANCESTOR_SQL = (
        "WITH RECURSIVE lineage(id) AS ("
        " SELECT parent_id FROM samples_sampleparent WHERE child_id = %s"
        " UNION SELECT sp.parent_id FROM samples_sampleparent sp JOIN lineage ON sp.child_id = lineage.id"
        ") SELECT id FROM lineage"
    )
    _DESCENDANT_SQL = (
        "WITH RECURSIVE lineage(id) AS ("
        " SELECT child_id FROM samples_sampleparent WHERE parent_id = %s"
        " UNION SELECT sp.child_id FROM samples_sampleparent sp JOIN lineage ON sp.parent_id = lineage.id"
        ") SELECT id FROM lineage"
    )

    def ancestors(self) -> SampleQuerySet:
        """Every sample upstream (parents, their parents, …) as one lazy queryset (one query)."""
        return Sample.objects.filter(id__in=RawSQL(self._ANCESTOR_SQL, [self.pk]))

    def descendants(self) -> SampleQuerySet:
        return Sample.objects.filter(id__in=RawSQL(self._DESCENDANT_SQL, [self.pk]))


class SampleParent(models.Model):
    child = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="parent_links")
    parent = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="child_links")
    role = models.CharField(max_length=64, blank=True, help_text="How the parent went in: 'QD ink drip', 'matrix precursor'…")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child", "parent"], name="unique_parent_link"),
            models.CheckConstraint(condition=~models.Q(child=models.F("parent")), name="no_self_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.parent} → {self.child}"

    def clean(self) -> None:
        if self.child_id and self.parent_id:
            if self.child_id == self.parent_id:
                raise ValidationError({"parent": "A sample cannot be its own parent."})
            if self.child.descendants().filter(pk=self.parent_id).exists():
                raise ValidationError({"parent": f"{self.parent} descends from {self.child}: this link would make a cycle."})


class LotUsage(models.Model):
    """What a completed run took from a chemical lot, in the lot's unit, and why when it could not
    be said (two lots of one chemical, an amount not logged, a unit that does not convert).
    ``samples.services.run_complete`` writes it and decrements ``ChemicalLot.amount_left``."""

    run = models.ForeignKey(ProcessRun, on_delete=models.PROTECT, related_name="lot_usages")
    lot = models.ForeignKey(ChemicalLot, on_delete=models.PROTECT, related_name="usages")
    amount = models.FloatField(null=True, blank=True, help_text="In the lot's unit; empty when it could not be computed.")
    unit = models.CharField(max_length=12, choices=UNIT_CHOICES, blank=True)
    remaining_after = models.FloatField(null=True, blank=True, help_text="The lot's amount left after this run.")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["run", "lot"], name="unique_lot_usage")]

    def __str__(self) -> str:
        return f"{self.run.label} used {self.amount} {self.unit} of {self.lot}"

    @property
    def is_overdrawn(self) -> bool:
        return self.remaining_after is not None and self.remaining_after < 0
