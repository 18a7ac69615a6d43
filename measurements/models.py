"""Instruments, immutable measurement files, analyses and the metrics they derive.

A file is stored once under its sha256 and never modified; its processing state lives on the row
(``queued → running → done | failed``) like NetBox's Job rows. An ``Analysis`` is one run of one
method version over one or more files; its ``DerivedMetric`` rows are never overwritten: a newer
analysis of the same target and kind marks the older rows ``superseded``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.models import TimeStamped
from devices.models import Device, Pixel
from samples.models import Sample


class MeasurementKind(models.TextChoices):
    JLV = "jlv", "J-L-V sweep"
    EL = "el", "EL spectrum"
    LIFETIME = "lifetime", "Lifetime L(t)"
    PL = "pl", "PL spectrum"
    PLQY = "plqy", "PLQY (integrating sphere)"
    TRPL = "trpl", "TRPL decay"
    TA = "ta", "Transient absorption"
    XRD = "xrd", "XRD / GIWAXS pattern"
    ABSORBANCE = "absorbance", "UV-Vis absorbance"
    IMAGE = "image", "Image (GIWAXS, micrograph)"
    OTHER = "other", "Other (stored only)"


class Instrument(TimeStamped):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=MeasurementKind.choices, blank=True,
                            help_text="Default kind of what it measures")
    model = models.CharField(max_length=120, blank=True)
    serial = models.CharField(max_length=80, blank=True)
    location = models.CharField(max_length=120, blank=True)
    xray_wavelength_a = models.FloatField("X-ray wavelength (Å)", null=True, blank=True,
                                          help_text="For XRD files that do not state it (Cu Kα1 1.5406 Å)")
    settings = models.JSONField(default=dict, blank=True, help_text="Photodiode geometry, responsivity, …")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CalibrationRole(models.TextChoices):
    """What a calibration file corrects; each maps to an analysis input role (``ANALYSIS_ROLE``)."""

    PHOTODIODE_RESPONSIVITY = "photodiode_responsivity", "Photodiode responsivity (A/W vs nm)"
    SPECTROMETER_INTENSITY = "spectrometer_intensity", "Spectrometer intensity calibration (relative sensitivity vs nm)"
    SPHERE = "sphere", "Integrating-sphere calibration (PLQY)"


def calibration_upload_to(instance: Calibration, filename: str) -> str:
    h = instance.sha256
    return f"calibrations/{h[:2]}/{h[2:4]}/{h}"


class Calibration(TimeStamped):
    """A calibration curve of one instrument, valid over a date range. A measurement file from that
    instrument uses the one of each role valid at its ``measured_at`` (or names its own)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="calibrations")
    role = models.CharField(max_length=32, choices=CalibrationRole.choices)
    file = models.FileField(upload_to=calibration_upload_to, max_length=200)
    sha256 = models.CharField(max_length=64, editable=False, db_index=True)
    original_name = models.CharField(max_length=255)
    valid_from = models.DateTimeField(help_text="First moment this calibration applies")
    valid_until = models.DateTimeField(null=True, blank=True, help_text="Empty: until a newer one starts")
    notes = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="calibrations")
    history = HistoricalRecords()

    class Meta:
        ordering = ["instrument", "role", "-valid_from"]
        indexes = [models.Index(fields=["instrument", "role", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.get_role_display()} of {self.instrument} from {self.valid_from:%Y-%m-%d} ({self.original_name})"


class FileStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    STORED = "stored", "Stored (no analysis)"


def measurement_upload_to(instance: MeasurementFile, filename: str) -> str:
    # Content-addressed: the path is the hash, so the same bytes are stored once.
    h = instance.sha256
    return f"measurements/{h[:2]}/{h[2:4]}/{h}"


class MeasurementFile(TimeStamped):
    file = models.FileField(upload_to=measurement_upload_to, max_length=200)
    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    original_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(editable=False)
    kind = models.CharField(max_length=16, choices=MeasurementKind.choices, db_index=True)
    format = models.CharField(max_length=40, blank=True, help_text="Parser that read it")
    instrument = models.ForeignKey(Instrument, null=True, blank=True, on_delete=models.PROTECT, related_name="files")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="measurement_files")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="measurement_files")
    pixel = models.ForeignKey(Pixel, null=True, blank=True, on_delete=models.PROTECT, related_name="measurement_files")
    measured_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="What the uploader said plus what the parser read")
    parameters = models.JSONField(default=dict, blank=True, help_text="Analysis parameters given at upload")
    status = models.CharField(max_length=16, choices=FileStatus.choices, default=FileStatus.QUEUED, db_index=True)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Outbox: set when the task message reached the broker. A queued row without it (broker down at
    # upload) or with an old one (message lost) is sent again by the periodic sweep.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker running it")
    # Set under the target's lock once the running claim has read the file: a partner file's task
    # pairs with it only then, so a J-L-V/EL pair (or a device's lifetime runs) is analysed by
    # exactly one task — the last of them to be read (services._read_and_check_partners).
    read_at = models.DateTimeField(null=True, blank=True, editable=False)
    idempotency_key = models.CharField(max_length=200, blank=True, editable=False,
                                       help_text="The API client's Idempotency-Key for this upload")
    calibrations = models.ManyToManyField(Calibration, blank=True, related_name="files",
                                          help_text="Calibrations named for this file (else the instrument's valid ones)")
    hidden = models.BooleanField(default=False, help_text="Hidden files stay stored; they are never deleted")
    hidden_reason = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords(excluded_fields=["started_at", "attempts", "enqueued_at", "claimed_by", "read_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "started_at"])]
        constraints = [
            # One upload per client key; a racing retry hits this and answers with the first row.
            models.UniqueConstraint(fields=["uploaded_by", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="unique_upload_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.kind}, {self.status})"

    def get_absolute_url(self) -> str:
        return reverse("measurement-detail", args=[self.pk])

    @property
    def target_label(self) -> str:
        return self.pixel.label if self.pixel_id else self.sample.label


class Analysis(TimeStamped):
    """One run of one method version on a set of files (e.g. a J-L-V file and its EL spectrum)."""

    kind = models.CharField(max_length=16, choices=MeasurementKind.choices, db_index=True)
    method = models.CharField(max_length=64)
    version = models.CharField(max_length=16)
    parameters = models.JSONField(default=dict, blank=True)
    sources = models.ManyToManyField(MeasurementFile, related_name="analyses")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="analyses")
    pixel = models.ForeignKey(Pixel, null=True, blank=True, on_delete=models.PROTECT, related_name="analyses")
    subject = models.CharField(max_length=120, blank=True, default="",
                               help_text="The sample column of a multi-sample file (Cary CSV); empty otherwise")
    calibrations = models.ManyToManyField(Calibration, blank=True, related_name="analyses")
    superseded = models.BooleanField(default=False, db_index=True)
    warnings = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Per-file metrics and small tables for the UI")
    # Compare's thinned curves (charts.overlays of result["arrays"]), made when the analysis is
    # stored: a few kB read instead of the result's tens of kB. NULL for analyses stored before it
    # (Compare then thins their arrays itself, to the same curves).
    overlay = models.JSONField(null=True, blank=True, editable=False,
                               help_text="Compare's downsampled curves of this analysis (derived from result.arrays)")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"
        constraints = [
            # Exactly one current analysis per target (sample, pixel), kind and subject: a duplicate
            # is impossible, not unlikely. Coalesce because NULL pixels never collide in an index.
            models.UniqueConstraint("sample", Coalesce("pixel", Value(0)), "kind", "subject",
                                    condition=Q(superseded=False), name="one_current_analysis"),
        ]

    def __str__(self) -> str:
        return f"{self.method} v{self.version} on {self.pixel or self.sample}"


class Plot(models.Model):
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="plots")
    name = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    svg = models.TextField()
    png = models.BinaryField()

    class Meta:
        ordering = ["analysis", "id"]
        constraints = [models.UniqueConstraint(fields=["analysis", "name"], name="unique_plot_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.analysis})"


class MetricScope(models.TextChoices):
    PIXEL = "pixel", "Pixel"
    DEVICE = "device", "Device"
    SAMPLE = "sample", "Sample"


class Aggregate(models.TextChoices):
    VALUE = "value", "Value"
    BEST = "best", "Best pixel"
    MEDIAN = "median", "Median of pixels"


class DerivedMetricQuerySet(models.QuerySet):
    def current(self) -> DerivedMetricQuerySet:
        return self.filter(superseded=False)



class DerivedMetric(models.Model):
    name = models.CharField(max_length=64, db_index=True)
    value = models.FloatField(db_index=True)
    unit = models.CharField(max_length=16, blank=True)
    uncertainty = models.FloatField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    scope = models.CharField(max_length=8, choices=MetricScope.choices, default=MetricScope.SAMPLE)
    aggregate = models.CharField(max_length=8, choices=Aggregate.choices, default=Aggregate.VALUE)
    n_pixels = models.PositiveIntegerField(null=True, blank=True, help_text="Pixels behind a device roll-up")
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="metrics")
    device = models.ForeignKey(Device, null=True, blank=True, on_delete=models.PROTECT, related_name="metrics")
    pixel = models.ForeignKey(Pixel, null=True, blank=True, on_delete=models.PROTECT, related_name="metrics")
    analysis = models.ForeignKey(Analysis, null=True, blank=True, on_delete=models.PROTECT, related_name="metrics",
                                 help_text="Empty for roll-ups, which are recomputed from pixel rows")
    method = models.CharField(max_length=64)
    version = models.CharField(max_length=16)
    subject = models.CharField(max_length=120, blank=True, default="",
                               help_text="The sample column of a multi-sample file; empty otherwise")
    superseded = models.BooleanField(default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DerivedMetricQuerySet.as_manager()

    class Meta:
        ordering = ["name", "-created_at"]
        indexes = [
            models.Index(fields=["name", "superseded", "value"]),
            # The current rows are what every page, filter and roll-up reads (and what superseding finds).
            models.Index(fields=["sample", "name"], condition=Q(superseded=False), name="metric_current_sample_name"),
            models.Index(fields=["name", "value"], condition=Q(superseded=False), name="metric_current_name_value"),
            # The metrics API's default order (name, newest first), walked instead of sorting 1M rows.
            models.Index(fields=["name", "-created_at", "-id"], name="metric_name_created"),
        ]
        constraints = [
            # One current value per target, name, aggregate and subject.
            models.UniqueConstraint("sample", Coalesce("device", Value(0)), Coalesce("pixel", Value(0)), "name",
                                    "aggregate", "subject", condition=Q(superseded=False), name="one_current_metric"),
        ]

    def __str__(self) -> str:
        return f"{self.name} = {self.value:g} {self.unit}"
