"""Recipe forms: "new version from this one" (planned values), the recipe editor (a new recipe,
or a new version with its steps and parameters), chemicals and lots."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.text import slugify

from core.forms import DecimalField
from core.units import DIMENSION_LABELS, UNIT_CHOICES, UnitError, dimension, dimension_choices, grouped_unit_choices, units_of

from .formatting import format_number
from .models import Chemical, ChemicalLot, Recipe, RecipeParameter, RecipeStep, RecipeVersion
from .output_kinds import output_kind_choices
from .services import ParamSpec, StepSpec

EDITABLE = ("nominal", "min_value", "max_value", "unit")


REASON_REQUIRED = "Say what changed and why: it is the version history."


class RevisionForm(forms.Form):
    notes = forms.CharField(label="What changed and why", widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="Shown in the version history.", error_messages={"required": REASON_REQUIRED})

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


# --- authoring: a recipe with its steps and parameters ----------------------------------------

TEXT, YES_NO = "text", "yes_no"
# What a parameter is measured in: a dimension of core.units, or a value that is not a number.
DIMENSION_CHOICES = [("", "— choose —"), *dimension_choices(), (TEXT, "text (no number)"), (YES_NO, "yes / no")]
PARAM_ROWS_NEW_STEP = 2  # blank parameter rows a new step starts with


def _key_from_name(name: str) -> str:
    # NFKD (inside slugify) turns "PbBr₂" into "pbbr2"; the key is what Compare and the API address.
    return slugify(name).replace("-", "_")[:64]


class RecipeHeadForm(forms.ModelForm):
    class Meta:
        model = Recipe
        fields = ["name", "step_type", "output_kind", "description", "reference"]
        labels = {"step_type": "Kind of recipe", "output_kind": "Makes (sample kind)"}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = output_kind_choices()
        if kinds:
            self.fields["output_kind"] = forms.ChoiceField(
                choices=[("", "— nothing (a setting-only recipe) —"), *kinds], required=False,
                label="Makes (sample kind)", help_text="What completing a run of it creates.")


class StepForm(forms.Form):
    name = forms.CharField(max_length=200, label="Step")
    action = forms.ChoiceField(choices=RecipeStep.Action.choices, initial=RecipeStep.Action.OTHER, label="Step type")
    instructions = forms.CharField(required=False, label="Description",
                                   widget=forms.Textarea(attrs={"rows": 2}))


class ParameterForm(forms.Form):
    name = forms.CharField(max_length=120, label="Parameter")
    role = forms.ChoiceField(choices=RecipeParameter.Role.choices, initial=RecipeParameter.Role.SETTING, label="Role")
    dimension = forms.ChoiceField(choices=DIMENSION_CHOICES, required=False, label="Quantity")
    nominal = DecimalField(required=False, label="Nominal")
    min_value = DecimalField(required=False, label="Min")
    max_value = DecimalField(required=False, label="Max")
    unit = forms.ChoiceField(choices=[("", "—"), *grouped_unit_choices()[:-1]], required=False, label="Unit")
    text_value = forms.CharField(max_length=300, required=False, label="Text / note",
                                 help_text="The value of a text or yes/no parameter; a note beside a number.")
    chemical = forms.ModelChoiceField(queryset=Chemical.objects.none(), required=False, label="Chemical")
    stock_mg_ml = DecimalField(required=False, min_value=0, label="Stock (mg/mL)")
    key = forms.SlugField(max_length=64, required=False, label="Key",
                          help_text="Stable machine name; made from the name when blank.")

    def __init__(self, *args, chemicals=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chemical"].queryset = chemicals if chemicals is not None else Chemical.objects.order_by("name")

    def clean_text_value(self):
        return self.cleaned_data.get("text_value", "").strip()


class BaseParameterFormSet(forms.BaseFormSet):
    def __init__(self, *args, chemicals=None, **kwargs):
        self.chemicals = chemicals
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "chemicals": self.chemicals}

    @property
    def empty_form(self):
        form = super().empty_form
        form.fields["chemical"].queryset = self.chemicals if self.chemicals is not None else form.fields["chemical"].queryset
        return form


StepFormSet = forms.formset_factory(StepForm, extra=0, can_delete=True, min_num=0)
ParameterFormSet = forms.formset_factory(ParameterForm, formset=BaseParameterFormSet, extra=0, can_delete=True)


def param_initial(p) -> dict:
    """A stored parameter (or a ParamSpec) as the editor's row."""
    if p.value_type == RecipeParameter.ValueType.TEXT:
        dim = TEXT
    elif p.value_type == RecipeParameter.ValueType.BOOLEAN:
        dim = YES_NO
    else:
        try:
            dim = dimension(p.unit)
        except UnitError:
            dim = ""
    return {"name": p.name, "key": p.key, "role": p.role, "dimension": dim, "nominal": format_number(p.nominal),
            "min_value": format_number(p.min_value), "max_value": format_number(p.max_value), "unit": p.unit,
            "text_value": p.text_value, "chemical": p.chemical.pk if p.chemical else None,
            "stock_mg_ml": format_number(p.stock_mg_ml)}


class RecipeEditor:
    """The new-recipe page and the edit-as-new-version page: the recipe's head (or the version's
    reason), a formset of steps and, per step, a formset of its parameters (prefix ``s<i>p``).

    Without JavaScript, "Add step" and "Add parameter" are submit buttons that come back with one
    more blank row (``with_added_row``); static/js/recipe_editor.js adds the same rows in place.
    Blank rows are ignored, ticked "Remove" rows dropped. ``specs()`` is what the services take."""

    def __init__(self, data=None, *, head: bool = True, steps_initial: list[dict] | None = None,
                 params_initial: list[list[dict]] | None = None, reason_required: bool = True):
        self.data = data
        self.chemicals = Chemical.objects.order_by("name")
        self.head = RecipeHeadForm(data, prefix="recipe") if head else None
        self.reason = ReasonForm(data, prefix="version", reason_required=reason_required)
        new_recipe = steps_initial is None
        self.steps = StepFormSet(data, prefix="step", initial=steps_initial or None)
        self.steps.extra = 1 if new_recipe else 0  # blank rows are "extra" forms: left blank, they are ignored
        self.param_sets = []
        for i in range(self.steps.total_form_count()):
            initial = (params_initial or [])[i] if data is None and i < len(params_initial or []) else None
            params = ParameterFormSet(data, prefix=f"s{i}p", initial=initial or None, chemicals=self.chemicals)
            params.extra = 1 if initial else PARAM_ROWS_NEW_STEP
            self.param_sets.append(params)
        self.errors: list[str] = []

    @classmethod
    def from_version(cls, version: RecipeVersion, data=None):
        if data is not None:
            return cls(data, head=False)
        steps = list(version.steps.prefetch_related("parameters__chemical"))
        return cls(head=False, steps_initial=[{"name": s.name, "action": s.action, "instructions": s.instructions}
                                              for s in steps],
                   params_initial=[[param_initial(p) for p in s.parameters.all()] for s in steps])

    @staticmethod
    def with_added_row(data) -> QueryDict | None:
        """The POST data with one more blank step (``add_step``) or parameter row (``add_param=<i>``)."""
        if "add_step" not in data and "add_param" not in data:
            return None
        data = data.copy()
        try:
            n = int(data.get("step-TOTAL_FORMS", 0))
            step = int(data.get("add_param", 0))
        except ValueError:
            return None  # not this page's form: validation reports it
        if "add_step" in data:
            data["step-TOTAL_FORMS"] = str(n + 1)
            data[f"s{n}p-TOTAL_FORMS"], data[f"s{n}p-INITIAL_FORMS"] = str(PARAM_ROWS_NEW_STEP), "0"
        else:
            prefix = f"s{step}p"
            data[f"{prefix}-TOTAL_FORMS"] = str(int(data.get(f"{prefix}-TOTAL_FORMS", 0)) + 1)
            data.setdefault(f"{prefix}-INITIAL_FORMS", "0")
        return data

    def rows(self):
        """(step form, its parameter formset, 1-based step number shown) for the template."""
        return [(form, params, i + 1) for i, (form, params) in enumerate(zip(self.steps.forms, self.param_sets, strict=True))]

    @property
    def empty_step(self):
        return self.steps.empty_form

    @property
    def empty_params(self):
        """A blank step's parameter formset, prefix ``s__step__p``; the script renames it."""
        params = ParameterFormSet(prefix="s__step__p", chemicals=self.chemicals)
        params.extra = PARAM_ROWS_NEW_STEP
        return params

    @property
    def empty_param(self):
        return ParameterFormSet(prefix="s__step__p", chemicals=self.chemicals).empty_form

    @property
    def units_by_dimension(self) -> dict:
        """For the script's live hint: {"mass": {"label": "mass", "units": ["mg", "g", "µg"]}, …}."""
        return {dim: {"label": DIMENSION_LABELS.get(dim, dim), "units": units_of(dim)}
                for dim, _ in dimension_choices()}

    def is_valid(self) -> bool:
        forms_ok = all([self.head.is_valid() if self.head else True, self.reason.is_valid(), self.steps.is_valid(),
                        *[p.is_valid() for p in self.param_sets]])
        if not forms_ok:
            return False
        self._specs = self._build_specs()
        return not self.errors and self._specs is not None

    def _kept(self, formset):
        for form in formset.forms:
            if formset._should_delete_form(form) or (not form.has_changed() and form.empty_permitted):
                continue
            yield form

    def _build_specs(self):
        specs = []
        for number, (step_form, params) in enumerate(zip(self.steps.forms, self.param_sets, strict=True), start=1):
            param_forms = list(self._kept(params))
            removed = self.steps._should_delete_form(step_form)
            if removed or (not step_form.has_changed() and not param_forms):
                continue
            name = step_form.cleaned_data.get("name")
            if not name:
                step_form.add_error("name", "A step with parameters needs a name.")
                continue
            where = f"Step {number} ({name})"
            step = StepSpec(name=name, action=step_form.cleaned_data["action"],
                            instructions=step_form.cleaned_data["instructions"].strip())
            keys = {}
            for form in param_forms:
                spec = self._param_spec(form, where)
                if spec is None:
                    continue
                if spec.key in keys:
                    form.add_error("name" if not form.cleaned_data.get("key") else "key",
                                   f"{where}: “{spec.name}” and “{keys[spec.key]}” have the same key {spec.key!r}; "
                                   "rename one or give it its own key.")
                    self.errors.append(form.errors.as_text())
                    continue
                keys[spec.key] = spec.name
                step.params.append(spec)
            specs.append(step)
        if not specs and not self.errors:
            self.errors.append("A recipe needs at least one step.")
        if any(f.errors for f in self.steps.forms) or any(f.errors for p in self.param_sets for f in p.forms):
            return None
        return specs

    def _param_spec(self, form, where: str) -> ParamSpec | None:
        d = form.cleaned_data
        name, dim, unit = d["name"], d.get("dimension") or "", d.get("unit") or ""
        label = f"{where}, parameter “{name}”"

        def refuse(field, message):
            # Beside the field the message alone (it sits in its step and row); in the summary at
            # the top with the step and the parameter named.
            form.add_error(field, message[:1].upper() + message[1:])
            self.errors.append(f"{label}: {message}")

        key = d.get("key") or _key_from_name(name)
        if not key:
            refuse("key", "give it a key (letters, digits, _ or -): its name has none to make one from.")
            return None
        common = {"key": key, "name": name, "role": d["role"], "chemical": d.get("chemical"),
                  "stock_mg_ml": d.get("stock_mg_ml"), "text_value": d.get("text_value", "")}
        if dim in (TEXT, YES_NO):
            if d.get("nominal") is not None or d.get("min_value") is not None or d.get("max_value") is not None or unit:
                refuse("dimension", f"a {'text' if dim == TEXT else 'yes/no'} parameter has no number or unit; "
                                    "put its value in “Text / note”.")
                return None
            text = common["text_value"]
            if dim == YES_NO:
                if text.lower() not in ("yes", "no"):
                    refuse("text_value", "a yes/no parameter's value is “yes” or “no”.")
                    return None
                common["text_value"] = text.lower()
            elif not text:
                refuse("text_value", "a text parameter needs its text.")
                return None
            value_type = RecipeParameter.ValueType.TEXT if dim == TEXT else RecipeParameter.ValueType.BOOLEAN
            return ParamSpec(**common, value_type=value_type)
        if not dim:
            refuse("dimension", "choose what it measures (mass, volume, time, …), then a unit of that.")
            return None
        allowed = [u for u in units_of(dim)]
        if unit not in allowed:
            shown = ", ".join(u or "no unit" for u in allowed)
            if unit:
                refuse("unit", f"{unit} is a unit of {DIMENSION_LABELS.get(dimension(unit), dimension(unit))}, "
                               f"not of {DIMENSION_LABELS.get(dim, dim)}; use {shown}.")
            else:
                refuse("unit", f"choose its unit: {shown}.")
            return None
        spec = ParamSpec(**common, nominal=d.get("nominal"), min_value=d.get("min_value"),
                         max_value=d.get("max_value"), unit=unit, value_type=RecipeParameter.ValueType.NUMBER)
        # The model's own rules (range upside down, nominal outside it, negative amounts, a
        # component without a chemical), with the step and parameter named.
        probe = RecipeParameter(**vars(spec))
        try:
            probe.clean()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    refuse(field if field in form.fields else None, message)
            return None
        return spec

    def specs(self) -> list[StepSpec]:
        return self._specs

    def add_service_error(self, exc: ValidationError) -> None:
        for field, messages in getattr(exc, "message_dict", {None: exc.messages}).items():
            for message in messages:
                if self.head is not None and field in self.head.fields:
                    self.head.add_error(field, message)
                else:
                    self.errors.append(message)

    @property
    def all_errors(self) -> list[str]:
        """Every error in one list for the summary at the top (the rows carry theirs too)."""
        out = list(dict.fromkeys(self.errors))
        if self.head is not None:
            out += [f"{self.head[f].label}: {e}" for f, errs in self.head.errors.items() for e in errs if f != "__all__"]
        for i, form in enumerate(self.steps.forms, start=1):
            out += [f"Step {i}: {e}" for errs in form.errors.values() for e in errs]
        out += [f"Reason: {e}" for e in self.reason.errors.get("notes", [])]
        # A tampered or truncated post (management form missing): the formsets say so.
        out += [str(e) for formset in (self.steps, *self.param_sets) for e in formset.non_form_errors()]
        return list(dict.fromkeys(out))


class ReasonForm(forms.Form):
    notes = forms.CharField(label="What changed and why", widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="Shown in the version history.", error_messages={"required": REASON_REQUIRED})

    def __init__(self, *args, reason_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["notes"].required = reason_required
        if not reason_required:
            self.fields["notes"].label = "Notes on this first version"
            self.fields["notes"].help_text = "Optional; “First version” when blank."

    def clean_notes(self):
        notes = self.cleaned_data.get("notes", "").strip()
        if self.fields["notes"].required and not notes:
            raise ValidationError(REASON_REQUIRED)
        return notes


# --- chemicals and lots -----------------------------------------------------------------------

def cas_is_valid(cas: str) -> bool:
    """CAS Registry Number check digit: the digits before it, weighted 1, 2, 3… from the right,
    summed mod 10 (CAS, "CAS Registry Number verification")."""
    match = re.fullmatch(r"(\d{2,7})-(\d{2})-(\d)", cas)
    if not match:
        return False
    digits = (match[1] + match[2])[::-1]
    return sum(int(d) * (i + 1) for i, d in enumerate(digits)) % 10 == int(match[3])


class ChemicalForm(forms.ModelForm):
    molar_mass_g_mol = DecimalField(required=False, min_value=0, label="Molar mass (g/mol)",
                                    help_text="Computed from the formula; type it only for a mixture or polymer without one.")
    density_g_ml = DecimalField(required=False, min_value=0, label="Density (g/mL)")
    purity_wt_percent = DecimalField(required=False, min_value=0, max_value=100, label="Purity / grade (wt %)",
                                     help_text="Assay, or wt % of a solution (HI: 57).")
    ions = forms.JSONField(required=False, label="Ions (for the stoichiometry engine)",
                           widget=forms.TextInput(attrs={"placeholder": '{"Pb": 1, "Br": 2}'}),
                           help_text='Per formula unit, e.g. {"Pb": 1, "Br": 2}; empty for solvents.')

    class Meta:
        model = Chemical
        fields = ["name", "abbreviation", "formula", "cas", "molar_mass_g_mol", "density_g_ml", "purity_wt_percent",
                  "ions", "hazards", "is_solvent"]
        labels = {"is_solvent": "Solvent"}

    def clean_cas(self):
        cas = self.cleaned_data.get("cas", "").strip()
        if cas and not cas_is_valid(cas):
            raise ValidationError(f"{cas} is not a CAS number (its check digit does not match, or it is not NNNNNNN-NN-N).")
        return cas

    def clean_ions(self):
        ions = self.cleaned_data.get("ions") or {}
        if not isinstance(ions, dict) or not all(isinstance(v, int | float) and v > 0 for v in ions.values()):
            raise ValidationError('Write the ions as {"ion": count, …} with positive counts.')
        return ions


class LotForm(forms.ModelForm):
    amount_left = DecimalField(required=False, label="Quantity left")

    class Meta:
        model = ChemicalLot
        fields = ["lot_number", "supplier", "catalog_number", "received_on", "opened_on", "expires_on", "location",
                  "amount_left", "amount_unit", "is_active"]
        labels = {"lot_number": "Lot number", "received_on": "Received", "opened_on": "Opened",
                  "expires_on": "Expires", "amount_unit": "Unit", "is_active": "In use"}
        widgets = {f: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
                   for f in ("received_on", "opened_on", "expires_on")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A lot is counted in a mass, a volume or an amount of substance.
        self.fields["amount_unit"].choices = [("", "—")] + [(u, u) for dim in ("mass", "volume", "amount")
                                                             for u in units_of(dim)]
        self.fields["amount_unit"].required = False
        self._stored_amount = self.instance.amount_left if self.instance.pk else None

    def _get_validation_exclusions(self):
        # A remainder below zero left by runs is kept as a warning (recipes.services.lot_save):
        # leaving it as it is must not block an edit of the supplier or the expiry date.
        exclude = super()._get_validation_exclusions()
        stored = self._stored_amount
        if stored is not None and stored < 0 and self.cleaned_data.get("amount_left") == stored:
            exclude.add("amount_left")
        return exclude

    def clean(self):
        data = super().clean()
        if data.get("amount_left") is not None and not data.get("amount_unit"):
            self.add_error("amount_unit", "A quantity needs its unit.")
        return data
