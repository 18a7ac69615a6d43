"""What a measurement station's upload agent (``ledger watch``) should do, kept on the server so
the instrument PC needs only its token: the same RULES.toml text the agent reads from disk."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.models import TimeStamped


class StationRules(TimeStamped):
    account = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="station_rules",
                                   help_text="The instrument account whose token the agent uses")
    rules_toml = models.TextField("rules (TOML)", help_text="The agent's RULES.toml: [[rule]] tables with pattern, "
                                                            "target or sidecar, kind, params (see README)")
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "station rules"
        verbose_name_plural = "station rules"

    def __str__(self) -> str:
        return f"rules of {self.account}"
