"""Form for "create a new version from this one": planned value, range and unit per parameter."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from core.units import UNIT_CHOICES

from .formatting import format_number
from .models import RecipeParameter, RecipeVersion

EDITABLE = ("nominal", "min_value", "max_value", "unit")


class RevisionForm(forms.Form):
    notes = forms.CharField(label="What changed and why", widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="Shown in the version history.")

    def __init__(self, *args, version: RecipeVersion, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = version
        self.params = list(RecipeParameter.objects.filter(step__version=version, value_type="number")
                           .select_related("step", "chemical").order_by("step__order", "order", "id"))
        for p in self.params:
            prefix = self._prefix(p)
            # "200" rather than "200.0": the initial is only what the user sees.
            self.fields[f"{prefix}nominal"] = forms.FloatField(required=False, initial=format_number(p.nominal), label="Nominal")
            self.fields[f"{prefix}min_value"] = forms.FloatField(required=False, initial=format_number(p.min_value), label="Min")
            self.fields[f"{prefix}max_value"] = forms.FloatField(required=False, initial=format_number(p.max_value), label="Max")
            self.fields[f"{prefix}unit"] = forms.ChoiceField(required=False, choices=UNIT_CHOICES, initial=p.unit, label="Unit")

    @staticmethod
    def _prefix(p: RecipeParameter) -> str:
        return f"p{p.step.order}_{p.key}__"

    def rows(self):
        for p in self.params:
            prefix = self._prefix(p)
            yield {"param": p, "fields": [self[f"{prefix}{name}"] for name in EDITABLE]}

    def clean(self):
        data = super().clean()
        self.changes = {}
        for p in self.params:
            prefix = self._prefix(p)
            new = {name: data.get(f"{prefix}{name}") for name in EDITABLE}
            new["unit"] = new["unit"] or ""
            changed = {k: v for k, v in new.items() if getattr(p, k) != v}
            if not changed:
                continue
            # Validate with the model's own rules, so the error lands beside the field.
            probe = RecipeParameter(**{f.attname: getattr(p, f.attname) for f in RecipeParameter._meta.concrete_fields})
            for k, v in changed.items():
                setattr(probe, k, v)
            try:
                probe.clean()
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    target = f"{prefix}{field}" if field in EDITABLE else None
                    for error in errors:
                        self.add_error(target, f"{p.name}: {error}" if target is None else error)
                continue
            self.changes[f"{p.step.order}.{p.key}"] = changed
        if not self.errors and not self.changes:
            raise ValidationError("Nothing changed: edit at least one value, range or unit.")
        return data
