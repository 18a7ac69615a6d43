"""Filter fields that refuse values the database cannot store, so bad input is a 400, not a 500."""

from __future__ import annotations

import datetime as dt

import django_filters as filters
from django import forms

# Real UTC offsets lie within −12:00…+14:00; PostgreSQL refuses larger displacements outright.
MAX_UTC_OFFSET = dt.timedelta(hours=14)


def check_datetime(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return value
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise forms.ValidationError(f"time-zone offset {offset} is outside ±14:00")
    if not 1900 <= value.year <= 2200:
        raise forms.ValidationError(f"year {value.year} is outside 1900–2200")
    return value


class BoundedDateTimeField(forms.DateTimeField):
    def clean(self, value):
        return check_datetime(super().clean(value))


class DateTimeFilter(filters.DateTimeFilter):
    field_class = BoundedDateTimeField
