from django import forms
from django.contrib import admin

from measurements.models import MeasurementKind
from recipes.admin import NoDeleteMixin

from .models import StationRules
from .validation import check_rules


class StationRulesForm(forms.ModelForm):
    class Meta:
        model = StationRules
        fields = ["account", "rules_toml", "notes"]
        widgets = {"rules_toml": forms.Textarea(attrs={"rows": 20, "cols": 100, "style": "font-family: monospace"})}

    def clean_rules_toml(self):
        text = self.cleaned_data["rules_toml"]
        problems = check_rules(text, kinds=set(MeasurementKind.values))
        if problems:
            raise forms.ValidationError(problems)
        return text


@admin.register(StationRules)
class StationRulesAdmin(NoDeleteMixin, admin.ModelAdmin):
    form = StationRulesForm
    list_display = ("account", "notes", "updated_at")
    search_fields = ("account__username", "notes")
