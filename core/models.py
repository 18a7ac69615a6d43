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


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A REST API token, stored as its SHA-256 digest: the key is shown once, when it is made.

    A person or an instrument account may hold several, each with a name ("J-L-V rig PC", "my
    notebook"). Revoking keeps the row (who revoked it and when) — like every record here, tokens
    are not deleted. ``prefix`` (the key's first 8 characters, not secret) finds the row and
    tells tokens apart on the page; the digest is compared in constant time.
    """

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, db_index=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoked_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
