from __future__ import annotations

from django.core.exceptions import ValidationError

from measurements.models import MeasurementKind

from .models import StationRules
from .validation import check_rules


def station_rules_set(*, account, rules_toml: str, notes: str = "") -> StationRules:
    problems = check_rules(rules_toml, kinds=set(MeasurementKind.values))
    if problems:
        raise ValidationError({"rules_toml": problems})
    rules, _ = StationRules.objects.update_or_create(account=account, defaults={"rules_toml": rules_toml, "notes": notes})
    return rules
