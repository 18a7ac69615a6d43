"""Devices as built: the stack of layers with real thicknesses, and the pixels measured."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from simple_history.models import HistoricalRecords

from core.models import TimeStamped
from recipes.models import RecipeVersion
from samples.models import ProcessRun, Sample, SampleKind


class Device(TimeStamped):
    """The device-level facts of a sample of kind ``device`` (one-to-one)."""

    sample = models.OneToOneField(Sample, on_delete=models.PROTECT, related_name="device",
                                  limit_choices_to={"kind": SampleKind.DEVICE})
    architecture = models.ForeignKey(RecipeVersion, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="devices", help_text="Device-architecture recipe version")
    stack_name = models.CharField(max_length=64, blank=True, help_text="e.g. 'Stack A (poly-TPD/LiF)'")
    encapsulated = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-sample__created_at"]

    def __str__(self) -> str:
        return self.sample.label

    def clean(self) -> None:
        if self.sample_id and self.sample.kind != SampleKind.DEVICE:
            raise ValidationError({"sample": "Only a sample of kind 'device' can be a device."})

    @property
    def label(self) -> str:
        return self.sample.label


class Layer(models.Model):
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="layers")
    order = models.PositiveIntegerField(help_text="1 = substrate side")
    material = models.CharField(max_length=120)
    function = models.CharField(max_length=64, blank=True, help_text="anode, HTL, EML, ETL, cathode…")
    nominal_thickness_nm = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0.0)])
    thickness_nm = models.FloatField("measured thickness (nm)", null=True, blank=True, validators=[MinValueValidator(0.0)])
    method = models.CharField(max_length=64, blank=True, help_text="spin-coat, thermal evaporation…")
    run = models.ForeignKey(ProcessRun, null=True, blank=True, on_delete=models.PROTECT, related_name="layers")
    source = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.PROTECT, related_name="used_in_layers",
                               help_text="Solution, ink or film the layer was made from")
    history = HistoricalRecords()

    class Meta:
        ordering = ["device", "order"]
        constraints = [models.UniqueConstraint(fields=["device", "order"], name="unique_layer_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.material}"

    @property
    def display_thickness_nm(self) -> float | None:
        return self.thickness_nm if self.thickness_nm is not None else self.nominal_thickness_nm


class Pixel(TimeStamped):
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="pixels")
    label = models.CharField(max_length=40, unique=True, help_text="DEV-0001-A")
    name = models.CharField(max_length=8, help_text="A, B, C, D…")
    area_cm2 = models.FloatField("area (cm²)", validators=[MinValueValidator(0.0)])
    notes = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["label"]
        indexes = [models.Index(Upper("label"), name="pixel_label_upper")]  # the label search's iexact
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="unique_pixel_name"),
            models.CheckConstraint(condition=models.Q(area_cm2__gt=0), name="pixel_area_positive"),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.area_cm2 is not None and self.area_cm2 <= 0:
            raise ValidationError({"area_cm2": "A pixel area must be positive (cm²)."})
