"""Shared plumbing: timestamps and per-kind label counters."""

from django.db import models, transaction


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class LabelCounter(models.Model):
    """Last number handed out per label prefix (QD, INK, DEV, RUN…).

    A row per prefix, incremented under SELECT … FOR UPDATE so two people saving at once never get
    the same label (a max()+1 on the sample table would race)."""

    prefix = models.CharField(max_length=16, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last}"


def next_label(prefix: str, width: int = 4) -> str:
    with transaction.atomic():
        counter, _ = LabelCounter.objects.select_for_update().get_or_create(prefix=prefix)
        counter.last += 1
        counter.save(update_fields=["last"])
    return f"{prefix}-{counter.last:0{width}d}"
