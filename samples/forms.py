"""Forms for planning and logging a run.

One form class serves both "plan a run from a recipe version" and "log the actuals of a planned
run": the parameter rows come from the version (plan) or from the run's RunValues (log)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.db.models import Q

from core.access import restrict
from core.forms import DecimalField
from core.search import label_forms
from core.units import UNITS, UnitError, convert
from recipes.formatting import format_number, format_planned
from recipes.models import ChemicalLot, RecipeParameter, RecipeVersion
from recipes.stoichiometry import scales_with_batch, version_volume_ml

from .models import MAX_RUN_OUTPUTS, ProcessRun, Project, RunValue, Sample, SampleKind, SampleStatus
from .selectors import INPUT_PICK_LIMIT, input_candidates, input_candidates_queryset

NOTE_MAX_LENGTH = RunValue._meta.get_field("note").max_length


@dataclass
class ParamRow:
    """One parameter line of the form: planned values plus the names of its form fields."""

    path: str  # "<step order>.<param key>", what the services take
    step_order: int
    step_name: str
    name: str
    value_type: str
    nominal: float | None
    lo: float | None
    hi: float | None
    unit: str
    text: str
    scales: bool = False  # an amount that follows the batch volume (recipes.stoichiometry.scales_with_batch)
    value_field: str = ""
    unit_field: str = ""
    text_field: str = ""
    note_field: str = ""

    @property
    def planned_display(self) -> str:
        return format_planned(self.nominal, self.lo, self.hi, self.unit, self.text, self.value_type)

    @property
    def nominal_display(self) -> str:
        return format_number(self.nominal)

    @property
    def is_number(self) -> bool:
        return self.value_type == RecipeParameter.ValueType.NUMBER

    def unit_options(self) -> list[tuple[str, float]]:
        """Units the actual may be typed in (same dimension), with their factor to the planned unit
        so run_form.js converts exactly as core.units.convert does."""
        if not self.unit:
            return []
        dim, base = UNITS[self.unit]
        if dim == "temperature":
            return [(self.unit, 1.0)]
        return [(u, f / base) for u, (d, f) in UNITS.items() if d == dim]


def rows_from_version(version: RecipeVersion) -> list[ParamRow]:
    params = RecipeParameter.objects.filter(step__version=version).select_related("step").order_by("step__order", "order", "id")
    return [ParamRow(path=f"{p.step.order}.{p.key}", step_order=p.step.order, step_name=p.step.name, name=p.name,
                     value_type=p.value_type, nominal=p.nominal, lo=p.min_value, hi=p.max_value, unit=p.unit,
                     text=p.text_value, scales=scales_with_batch(p.role, p.unit)) for p in params]


def rows_from_run(run: ProcessRun) -> list[ParamRow]:
    return [ParamRow(path=f"{v.parameter.step.order}.{v.parameter.key}", step_order=v.parameter.step.order,
                     step_name=v.parameter.step.name, name=v.parameter.name, value_type=v.parameter.value_type,
                     nominal=v.planned_nominal, lo=v.planned_min, hi=v.planned_max, unit=v.unit, text=v.planned_text,
                     scales=scales_with_batch(v.parameter.role, v.unit))
            for v in run.values.select_related("parameter__step")]


def input_choice_label(sample: Sample) -> str:
    return " · ".join(filter(None, [sample.label, sample.get_kind_display(), sample.name]))


def _optional_float(label, **kw):
    return DecimalField(label=label, required=False, **kw)


class RunForm(forms.Form):
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    planned_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    glovebox_o2_ppm = _optional_float("Glovebox O₂ (ppm)", min_value=0)
    glovebox_h2o_ppm = _optional_float("Glovebox H₂O (ppm)", min_value=0)
    temperature_c = _optional_float("Temperature (°C)")
    humidity_percent = _optional_float("Relative humidity (%)", min_value=0, max_value=100)
    batch_volume_ml = _optional_float("Batch volume (mL)", min_value=0)
    lots = forms.ModelMultipleChoiceField(queryset=ChemicalLot.objects.none(), required=False,
                                          widget=forms.CheckboxSelectMultiple, label="Chemical lots used")
    # The picker (templates/samples/run_input_picker.html) lists the newest candidates and what is
    # ticked, never the whole queryset: a lab has thousands. Any candidate may be submitted; the
    # search (run_input_search, static/js/input_picker.js) or input_labels reaches the others.
    inputs = forms.ModelMultipleChoiceField(queryset=Sample.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple, label="Input samples (parents)")
    input_labels = forms.CharField(required=False, max_length=2000, label="More input samples by label",
                                   help_text="Labels separated by commas or spaces, e.g. QD-12, INK-3.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # What completing the run will create: stored with the plan, changed here until the run is
    # completed (a separate, confirmed step: samples.views.run_complete).
    outputs = forms.IntegerField(min_value=1, max_value=MAX_RUN_OUTPUTS, initial=1, label="Planned output samples",
                                 help_text="A batch of N substrates in one go gives N samples.")
    output_kind = forms.ChoiceField(required=False, label="Kind of the outputs",
                                    choices=[("", "as the recipe says")] + list(SampleKind.choices))
    output_names = forms.CharField(required=False, label="Names of the outputs (one per line, optional)",
                                   widget=forms.Textarea(attrs={"rows": 2}))
    output_location = forms.CharField(required=False, max_length=120, label="Where the outputs will be kept")

    def __init__(self, *args, version: RecipeVersion, user, rows: list[ParamRow], run: ProcessRun | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.version, self.user, self.rows, self.run = version, user, rows, run
        self.fields["project"].queryset = restrict(Project.objects.all(), user)
        chemicals = RecipeParameter.objects.filter(step__version=version, chemical__isnull=False).values("chemical")
        self.fields["lots"].queryset = (ChemicalLot.objects.filter(chemical__in=chemicals, is_active=True)
                                        .select_related("chemical").order_by("chemical__name", "-received_on"))
        self.fields["lots"].label_from_instance = lambda lot: lot.choice_label  # "— EXPIRED 2025-01-31"
        self.fields["inputs"].queryset = input_candidates_queryset(user).order_by("-created_at", "-id")
        self.fields["inputs"].label_from_instance = input_choice_label
        if run is not None:
            # The run exists already: project and inputs were fixed when it was planned.
            for name in ("project", "planned_date", "lots", "inputs", "input_labels"):
                del self.fields[name]
        elif self.fields["project"].queryset.count() == 1:
            self.fields["project"].initial = self.fields["project"].queryset.first()
        for row in rows:
            key = row.path.replace(".", "_")
            if row.is_number:
                row.value_field, row.unit_field = f"v_{key}", f"u_{key}"
                self.fields[row.value_field] = DecimalField(required=False, label=row.name)
                self.fields[row.unit_field] = forms.ChoiceField(
                    required=False, choices=[(u, u) for u, _ in row.unit_options()] or [("", "—")], initial=row.unit)
            else:
                row.text_field = f"t_{key}"
                self.fields[row.text_field] = forms.CharField(required=False, max_length=300, label=row.name)
            # A short note per parameter ("balance drifted, re-tared"), stored on its RunValue.
            row.note_field = f"n_{key}"
            self.fields[row.note_field] = forms.CharField(required=False, max_length=NOTE_MAX_LENGTH,
                                                          label=f"Note on {row.name}")

    def clean_input_labels(self) -> list[Sample]:
        """Labels typed loosely (``QD-12``, ``qd0012``), each one candidate or an error naming it."""
        text = self.cleaned_data.get("input_labels") or ""
        found, unknown = [], []
        candidates = input_candidates_queryset(self.user)
        for token in filter(None, re.split(r"[,;\s]+", text)):
            forms_ = {token, *label_forms(token)}
            match = Q()
            for form in forms_:
                match |= Q(label__iexact=form)
            sample = candidates.filter(match).first()
            (found.append(sample) if sample else unknown.append(token))
        if unknown:
            raise forms.ValidationError(f"No sample you can use as an input is labelled {', '.join(unknown)} "
                                        "(used up, discarded or not in your projects?).")
        return found

    def clean(self):
        data = super().clean()
        if "inputs" in self.fields and data.get("input_labels"):
            data["inputs"] = list(dict.fromkeys([*(data.get("inputs") or []), *data["input_labels"]]))
        names = self.output_name_list()
        if data.get("outputs") and len(names) > data["outputs"]:
            self.add_error("output_names", f"{len(names)} names for {data['outputs']} output(s): "
                                           "give at most one name per output.")
        for row in self.rows:
            if not row.is_number:
                continue
            value, unit = data.get(row.value_field), data.get(row.unit_field) or row.unit
            if value is None:
                continue
            try:
                convert(value, unit, row.unit or unit)
            except UnitError as exc:
                self.add_error(row.unit_field, str(exc))
        return data

    def actuals(self) -> dict[str, tuple[float, str]]:
        """Numbers typed in, as run_record_actuals takes them."""
        return {row.path: (self.cleaned_data[row.value_field], self.cleaned_data.get(row.unit_field) or row.unit)
                for row in self.rows
                if row.is_number and self.cleaned_data.get(row.value_field) is not None}

    def texts(self) -> dict[str, str]:
        return {row.path: self.cleaned_data[row.text_field] for row in self.rows
                if not row.is_number and self.cleaned_data.get(row.text_field)}

    def parameter_notes(self) -> dict[str, str]:
        """Every parameter's note as typed ("" clears one), as run_record_actuals takes them."""
        return {row.path: self.cleaned_data.get(row.note_field, "").strip() for row in self.rows}

    def output_name_list(self) -> list[str]:
        text = (self.cleaned_data.get("output_names") if hasattr(self, "cleaned_data") else "") or ""
        return [n.strip() for n in text.splitlines() if n.strip()]

    def planned_outputs(self) -> dict:
        """What completing the run will create, as run_plan / run_set_planned_outputs take it."""
        return {"outputs": self.cleaned_data["outputs"], "output_kind": self.cleaned_data.get("output_kind") or "",
                "output_names": self.output_name_list(),
                "output_location": self.cleaned_data.get("output_location", "")}

    def conditions(self) -> dict:
        names = ("glovebox_o2_ppm", "glovebox_h2o_ppm", "temperature_c", "humidity_percent", "batch_volume_ml", "notes")
        return {n: self.cleaned_data.get(n) if n != "notes" else self.cleaned_data.get(n, "") for n in names}

    def field_for_path(self, path: str, field: str = "actual_value") -> str | None:
        """Map a service error on a RunValue field back to the form field beside that parameter."""
        for row in self.rows:
            if row.path == path:
                if field == "note":
                    return row.note_field
                return row.unit_field if field == "actual_unit" else row.value_field or row.text_field
        return None

    def input_choices(self) -> list[tuple[Sample, bool]]:
        """What the picker lists without a search: the ticked samples, then the newest candidates."""
        if "inputs" not in self.fields:
            return []
        selected = {str(pk) for pk in (self["inputs"].value() or [])}
        ticked = list(self.fields["inputs"].queryset.filter(pk__in=[pk for pk in selected if pk.isdigit()]))
        newest, _ = input_candidates(self.user, limit=INPUT_PICK_LIMIT)
        rows = ticked + [s for s in newest if str(s.pk) not in selected]
        return [(s, str(s.pk) in selected) for s in rows]

    def expired_lots(self) -> list[ChemicalLot]:
        """Lots offered that are past their expiry date: a warning above the picker, not a block."""
        if "lots" not in self.fields:
            return []
        return [lot for lot in self.fields["lots"].queryset if lot.is_expired]

    @property
    def base_volume_ml(self) -> float | None:
        """The batch volume the planned column is for (the recipe's own, or the run's scaled one):
        run_form.js rescales the amounts live when another batch volume is typed."""
        recipe_ml = version_volume_ml(self.version)
        if recipe_ml is None:
            return None
        return recipe_ml * (self.run.planned_scale if self.run is not None else 1.0)

    @property
    def tolerance(self) -> float:
        return settings.LEDGER_DEFAULT_TOLERANCE


class SampleEditForm(forms.Form):
    """Name, location, status (``consumed`` when it is used up) and notes of a sample."""

    name = forms.CharField(required=False, max_length=200)
    location = forms.CharField(required=False, max_length=120, help_text="Glovebox 1, fridge B, shelf 3…")
    status = forms.ChoiceField(choices=SampleStatus.choices,
                               help_text="“Used up” when nothing is left; it is then no longer offered as a run input.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))


class ProjectForm(forms.Form):
    """A project's code, name, description and members (lab managers; samples/views.project_edit)."""

    code = forms.SlugField(max_length=32, help_text="Short and permanent: it names the project in the API, "
                                                     "exports and sign-in group mappings (letters, digits, - and _).")
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    members = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
                                             help_text="Members see and write the project's samples, runs and files.")

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["members"].label_from_instance = lambda u: (f"{u.get_username()} ({u.get_full_name()})"
                                                                 if u.get_full_name() else u.get_username())
