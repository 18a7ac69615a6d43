"""Label printers of the lab and the jobs sent to them.

A ``PrintJob`` is a row with a status like NetBox's jobs: created ``queued`` in the request,
sent by a Celery task on commit, then ``sent`` or ``failed`` with the reason a person can act on.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.models import TimeStamped
from samples.models import ProcessRun, Sample


class PrinterKind(models.TextChoices):
    BROTHER_QL = "brother_ql", "Brother QL (raster)"
    ZEBRA_ZPL = "zebra_zpl", "Zebra (ZPL II)"


class Printer(TimeStamped):
    name = models.CharField(max_length=80, unique=True, help_text="What people call it: 'Glovebox 2 Brother'")
    kind = models.CharField(max_length=16, choices=PrinterKind.choices)
    model = models.CharField(max_length=32, blank=True,
                             help_text="Brother model, e.g. QL-820NWB (Zebra: for the record only)")
    host = models.CharField(max_length=255, help_text="IP address or host name of the printer")
    port = models.PositiveIntegerField(default=9100, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    label = models.CharField(max_length=16, blank=True,
                             help_text="Brother label stock: '62' (62 mm endless) or '62x29' (die-cut)")
    width_mm = models.FloatField(default=62.0, help_text="Zebra label width")
    height_mm = models.FloatField(default=29.0, help_text="Zebra label height (and the cut length of endless Brother rolls)")
    dpi = models.PositiveIntegerField(default=203, help_text="Zebra print head: 203, 300 or 600 dpi")
    location = models.CharField(max_length=120, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from .printers.brother import LABELS, MODELS
        from .printers.zpl import DPI_CHOICES

        if self.kind == PrinterKind.BROTHER_QL:
            if self.model not in MODELS:
                raise ValidationError({"model": f"Pick a Brother QL model: {', '.join(MODELS)}."})
            if self.label not in LABELS:
                raise ValidationError({"label": "Use a Brother label identifier such as 62 (endless) or 62x29 (die-cut)."})
        if self.kind == PrinterKind.ZEBRA_ZPL and self.dpi not in DPI_CHOICES:
            raise ValidationError({"dpi": f"A Zebra print head has {', '.join(map(str, DPI_CHOICES))} dpi."})


class PrintJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class PrintJob(TimeStamped):
    printer = models.ForeignKey(Printer, on_delete=models.PROTECT, related_name="jobs")
    sample = models.ForeignKey(Sample, null=True, blank=True, on_delete=models.PROTECT, related_name="print_jobs")
    run = models.ForeignKey(ProcessRun, null=True, blank=True, on_delete=models.PROTECT, related_name="print_jobs")
    title = models.CharField(max_length=64, help_text="The big text on the label")
    url = models.CharField(max_length=300, help_text="What the QR code opens")
    lines = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=8, choices=PrintJobStatus.choices, default=PrintJobStatus.QUEUED, db_index=True)
    failure_reason = models.TextField(blank=True)
    bytes_sent = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="print_jobs")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(sample__isnull=False) | models.Q(run__isnull=False),
                                              name="print_job_has_target")]

    def __str__(self) -> str:
        return f"{self.title} → {self.printer} ({self.status})"
