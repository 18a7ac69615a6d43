"""Forms for the upload and compare pages. They validate and resolve; the services write."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from recipes.models import Recipe
from samples.models import Sample

from . import selectors
from .analysis.registry import specs
from .models import Calibration, Instrument, MeasurementKind
from .services import IngestError, resolve_target

NO_ANALYSIS = {MeasurementKind.IMAGE, MeasurementKind.OTHER}


def analysis_parameter_help() -> dict[str, list[dict[str, str]]]:
    """kind → its analysis parameters (name, default, help), for the upload page's hint list."""
    return {kind: [{"name": p.name, "default": "" if p.default is None else str(p.default), "help": p.help}
                   for p in spec.params] for kind, spec in specs().items()}


class UploadForm(forms.Form):
    target = forms.CharField(
        max_length=40, label="Target",
        help_text="A sample, device or pixel label, e.g. DEV-0001 or DEV-0001-A (scan the traveller's QR code).")
    kind = forms.ChoiceField(
        required=False, label="Kind", choices=[("", "Detect from the file")] + list(MeasurementKind.choices))
    instrument = forms.ModelChoiceField(
        queryset=Instrument.objects.all(), required=False, empty_label="—", label="Instrument")
    calibration = forms.ModelChoiceField(
        queryset=Calibration.objects.select_related("instrument"), required=False, empty_label="— the instrument's",
        label="Calibration", help_text="Blank: the instrument's calibrations valid when the file was measured.")
    # A device target with pixels: which pixel the file is of (one per file from upload.js's
    # per-file picker; for every file at once without JS). Blank: the pixel its file name names.
    pixel = forms.CharField(required=False, max_length=16, label="Pixel",
                            help_text="Blank: the pixel the file name names (_A_, px2, -B.).")
    parameters = forms.CharField(
        required=False, label="Analysis parameters", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line or comma-separated: name = value (e.g. pixel_area_cm2 = 0.04). "
                  "Blank uses the pixel area, instrument settings and defaults.")

    def __init__(self, *args: Any, user, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.sample: Sample | None = None
        self.pixel = None

    def clean_target(self) -> str:
        label = self.cleaned_data["target"].strip()
        try:
            # Among the samples the user may see: another project's label reads as a missing one.
            sample, pixel = resolve_target(label, self.user)
        except IngestError as exc:
            raise forms.ValidationError(str(exc)) from None
        self.sample, self.pixel = sample, pixel
        return label

    def device_pixels(self) -> list:
        """The pixels of the target when it is a device (the per-file picker's choices)."""
        device = getattr(self.sample, "device", None) if self.sample is not None and self.pixel is None else None
        return list(device.pixels.order_by("name")) if device is not None else []

    def clean_pixel(self) -> str:
        return (self.cleaned_data.get("pixel") or "").strip()

    def clean_parameters(self) -> dict[str, Any]:
        return parse_parameters(self.cleaned_data.get("parameters", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = data.get("pixel")
        if chosen and self.sample is not None:
            if self.pixel is not None:
                if chosen not in (self.pixel.name, self.pixel.label):
                    self.add_error("pixel", f"The target is pixel {self.pixel.label}; leave the pixel blank.")
            else:
                found = [p for p in self.device_pixels() if chosen in (p.name, p.label)]
                if not found:
                    names = ", ".join(p.name for p in self.device_pixels()) or "none"
                    self.add_error("pixel", f"{self.sample.label} has no pixel {chosen!r} (its pixels: {names}).")
                else:
                    self.pixel = found[0]
        params, kind = data.get("parameters") or {}, data.get("kind")
        if params:
            if kind in NO_ANALYSIS:
                self.add_error("parameters", f"{MeasurementKind(kind).label} files are stored without analysis.")
                return data
            help_ = analysis_parameter_help()
            known = {p["name"] for p in help_.get(kind, [])} if kind else {p["name"] for ps in help_.values() for p in ps}
            unknown = sorted(set(params) - known)
            if unknown:
                where = f"a {MeasurementKind(kind).label} analysis" if kind else "any analysis"
                self.add_error("parameters", f"{', '.join(unknown)}: not a parameter of {where} "
                                             f"(known: {', '.join(sorted(known)) or 'none'}).")
        return data


def parse_parameters(text: str) -> dict[str, Any]:
    """ "pixel_area_cm2 = 0.04, n_exp = 2" → {"pixel_area_cm2": 0.04, "n_exp": 2.0}."""
    params: dict[str, Any] = {}
    for item in (text or "").replace(";", "\n").replace(",", "\n").splitlines():
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise forms.ValidationError(f"{item.strip()!r}: write name = value")
        try:
            params[name] = float(value)
        except ValueError:
            params[name] = value
    return params


class ReanalysisForm(forms.Form):
    """The measurement page's Re-analyse button: another kind, new parameters, a column map,
    one sample of a multi-sample file, or another calibration."""

    kind = forms.ChoiceField(required=False, label="Kind", choices=[("", "Keep the kind")] + [
        c for c in MeasurementKind.choices if c[0] not in NO_ANALYSIS])
    parameters = forms.CharField(
        required=False, label="Parameters", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="name = value, one per line; merged into the file's own (name = none removes one).")
    column_map = forms.CharField(
        required=False, label="Column map (JSON)", widget=forms.Textarea(attrs={"rows": 2}),
        help_text='For odd headers: header → canonical name, e.g. {"columns": {"Bias": "voltage_v", '
                  '"Amps": "current_a", "Brightness": "luminance_cd_m2"}}.')
    sample_column = forms.CharField(required=False, max_length=120, label="Sample column",
                                    help_text="A multi-sample file: analyse this sample only.")
    calibration = forms.ModelChoiceField(
        queryset=Calibration.objects.select_related("instrument"), required=False, empty_label="— keep",
        label="Calibration")

    def device_pixels(self) -> list:
        """The pixels of the target when it is a device (the per-file picker's choices)."""
        device = getattr(self.sample, "device", None) if self.sample is not None and self.pixel is None else None
        return list(device.pixels.order_by("name")) if device is not None else []

    def clean_pixel(self) -> str:
        return (self.cleaned_data.get("pixel") or "").strip()

    def clean_parameters(self) -> dict[str, Any]:
        params = parse_parameters(self.cleaned_data.get("parameters", ""))
        return {k: (None if isinstance(v, str) and v.lower() in ("none", "null", "") else v) for k, v in params.items()}

    def clean_column_map(self) -> dict | None:
        import json

        text = self.cleaned_data.get("column_map", "").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("expected a JSON object")
        return value


class LabelsField(forms.ModelMultipleChoiceField):
    """Labels ticked or typed: each value may hold several, separated by spaces or commas
    (``samples=DEV-0001&samples=DEV-0002`` and ``samples=DEV-0001 DEV-0002`` are the same)."""

    def clean(self, value):
        if isinstance(value, str):
            value = [value]
        labels = [part for v in (value or []) for part in re.split(r"[\s,;]+", str(v)) if part]
        return super().clean(list(dict.fromkeys(labels)))


class CompareForm(forms.Form):
    """GET form: the URL is the deep link (samples=DEV-0001&samples=DEV-0002&x=…&y=…)."""

    samples = LabelsField(
        queryset=Sample.objects.none(), to_field_name="label", required=False, label="Samples or devices",
        widget=forms.CheckboxSelectMultiple)
    recipe = forms.ModelChoiceField(
        queryset=Recipe.objects.all(), required=False, empty_label="—", label="…or a whole recipe family",
        help_text="Every output of every version of the recipe.")
    x = forms.ChoiceField(required=False, label="Recipe parameter (x)")
    y = forms.ChoiceField(required=False, label="Metric (y)")

    def __init__(self, *args: Any, user, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["samples"].queryset = selectors.compare_candidates(user).order_by("kind", "label")
        self.fields["x"].choices = [("", "—")] + selectors.parameter_choices()
        self.fields["y"].choices = [("", "—")] + selectors.metric_choices(user)

    def selected_samples(self) -> list[Sample]:
        """The ticked samples, then the recipe family's outputs, deduplicated, capped."""
        chosen = list(self.cleaned_data.get("samples") or [])
        recipe = self.cleaned_data.get("recipe")
        if recipe is not None:
            chosen += list(selectors.recipe_family(recipe, self.user))
        seen, out = set(), []
        for s in chosen:
            if s.pk not in seen:
                seen.add(s.pk)
                out.append(s)
        return out[: selectors.MAX_COMPARE]
