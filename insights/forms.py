"""Forms of the insights pages: which family (recipe, project), which metric, and the
design-of-experiments space built from a recipe version's ranged parameters."""

from __future__ import annotations

from django import forms
from django.http import QueryDict

from core.access import restrict
from recipes.models import Recipe, RecipeVersion
from samples.models import Project

from . import selectors


def with_defaults(query: QueryDict, defaults: dict) -> QueryDict:
    """The request's query with the page's defaults for what it leaves out, so a bound form shows
    (and validates) the values the page actually uses."""
    data = query.copy()
    for key, value in defaults.items():
        if key not in data and value is not None:
            if isinstance(value, list | tuple):
                data.setlist(key, [str(v) for v in value])
            else:
                data[key] = str(value)
    return data


OBJECTIVES = [("eqe_max", "maximise EQE (eqe_max)"), ("t50", "maximise T50 (t50)"),
              ("weighted", "maximise a weighted pair of EQE and log T50")]
SIGMA_CHOICES = [("average_mr", "MR̄/1.128 with Phase I (textbook)"), ("median_mr", "median MR/0.954 (robust)")]


class FamilyForm(forms.Form):
    """Recipe family + project. Unbound or blank: the default recipe (most versions) and every project."""

    recipe = forms.ModelChoiceField(queryset=Recipe.objects.none(), required=False, empty_label=None)
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False, to_field_name="code",
                                     empty_label="all my projects")

    def __init__(self, *args, user, recipes: list | None = None, **kwargs):
        """``recipes``: ``selectors.recipe_choices(user)`` when the caller has them (a page builds
        a probe form for the family, then the form it shows)."""
        super().__init__(*args, **kwargs)
        self.user = user
        self.recipes = choices = selectors.recipe_choices(user) if recipes is None else recipes
        self.fields["recipe"].queryset = restrict(Recipe.objects.filter(pk__in=[r.pk for r in choices]), user)
        self.fields["recipe"].label_from_instance = lambda r: f"{r.name}"
        self.fields["project"].queryset = restrict(Project.objects.all(), user)
        self.default_recipe = choices[0] if choices else None

    def family(self) -> tuple[Recipe | None, Project | None]:
        """The recipe and project asked for; the default recipe when none, or one the user may not
        see, is asked for. Only these two fields decide: a page's probe form does not know the
        family's metrics yet, and a metric it has no choice for must not send the page back to the
        default recipe (Django leaves out of ``cleaned_data`` only the fields that failed)."""
        if not self.is_bound:
            return self.default_recipe, None
        self.is_valid()
        return self.cleaned_data.get("recipe") or self.default_recipe, self.cleaned_data.get("project")


class DriversForm(FamilyForm):
    metrics = forms.MultipleChoiceField(choices=[], required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, metric_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metrics"].choices = [(m, m) for m in metric_choices]


class ControlForm(FamilyForm):
    metric = forms.ChoiceField(choices=[], required=False)
    sigma = forms.ChoiceField(choices=SIGMA_CHOICES, required=False, label="σ from")

    def __init__(self, *args, metric_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [(m, m) for m in metric_choices]


class SuggestForm(forms.Form):
    """The version, the objective and the batch; one mode/low/high/value group per ranged parameter."""

    version = forms.ModelChoiceField(queryset=RecipeVersion.objects.none(), empty_label=None)
    objective = forms.ChoiceField(choices=OBJECTIVES, initial="eqe_max")
    weight = forms.FloatField(min_value=0, max_value=1, initial=0.5, required=False,
                              label="weight of EQE (T50 gets 1 − w)")
    batch = forms.IntegerField(min_value=1, max_value=8, initial=4, label="runs in the batch")
    scope = forms.ChoiceField(choices=[("recipe", "every version of the recipe"), ("version", "this version only")],
                              initial="recipe", label="history")
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False, to_field_name="code",
                                     empty_label="all my projects", label="history from")
    seed = forms.IntegerField(initial=1, required=False, help_text="same seed, same history → same proposals")

    def __init__(self, *args, user, version: RecipeVersion | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        versions = restrict(RecipeVersion.objects.select_related("recipe").filter(recipe__versions__runs__isnull=False)
                            .distinct(), user).order_by("recipe__name", "-number")
        self.fields["version"].queryset = versions
        self.fields["version"].label_from_instance = lambda v: f"{v.recipe.name} v{v.number}"
        self.fields["project"].queryset = restrict(Project.objects.all(), user)
        self.version = version
        self.space = selectors.version_space(version) if version else []
        for p in self.space:
            key = p.path.replace(".", "_")
            self.fields[f"mode_{key}"] = forms.ChoiceField(choices=[("vary", "vary"), ("fix", "fix at")], initial="vary",
                                                           label=p.name)
            self.fields[f"low_{key}"] = forms.FloatField(initial=p.low, min_value=p.low, max_value=p.high, required=False)
            self.fields[f"high_{key}"] = forms.FloatField(initial=p.high, min_value=p.low, max_value=p.high, required=False)
            self.fields[f"value_{key}"] = forms.FloatField(initial=p.nominal, min_value=p.low, max_value=p.high,
                                                           required=False)

    def parameter_rows(self):
        for p in self.space:
            key = p.path.replace(".", "_")
            yield {"param": p, "mode": self[f"mode_{key}"], "low": self[f"low_{key}"], "high": self[f"high_{key}"],
                   "value": self[f"value_{key}"]}

    def clean(self):
        data = super().clean()
        for p in self.space:
            key = p.path.replace(".", "_")
            mode = data.get(f"mode_{key}") or "vary"
            if mode == "fix" and data.get(f"value_{key}") is None:
                self.add_error(f"value_{key}", f"give the value to fix {p.name} at")
            low, high = data.get(f"low_{key}"), data.get(f"high_{key}")
            if mode == "vary" and low is not None and high is not None and low > high:
                self.add_error(f"high_{key}", f"{p.name}: the upper end is below the lower end")
        if data.get("objective") == "weighted" and data.get("weight") is None:
            self.add_error("weight", "give the weight of EQE (0–1)")
        return data

    def space_items(self) -> list[dict]:
        """The ``space`` of doe.suggest, keyed by the frame's column names."""
        items = []
        for p in self.space:
            key = p.path.replace(".", "_")
            if self.cleaned_data.get(f"mode_{key}") == "fix":
                items.append({"name": p.column, "value": float(self.cleaned_data[f"value_{key}"])})
            else:
                low = self.cleaned_data.get(f"low_{key}")
                high = self.cleaned_data.get(f"high_{key}")
                items.append({"name": p.column, "low": p.low if low is None else low, "high": p.high if high is None else high})
        return items


class PlanForm(forms.Form):
    """The proposals to turn into planned runs (values as JSON, produced by the suggest page)."""

    version = forms.ModelChoiceField(queryset=RecipeVersion.objects.none())
    project = forms.ModelChoiceField(queryset=Project.objects.none(), to_field_name="code", label="plan into project")
    planned_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    proposals = forms.JSONField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = restrict(RecipeVersion.objects.all(), user)
        self.fields["project"].queryset = restrict(Project.objects.all(), user)

    def clean_proposals(self):
        value = self.cleaned_data["proposals"]
        if not isinstance(value, list) or not value or not all(isinstance(p, dict) for p in value):
            raise forms.ValidationError("no proposals to plan")
        for p in value:
            if not all(isinstance(k, str) and isinstance(v, int | float) for k, v in p.items()):
                raise forms.ValidationError("each proposal maps '<step>.<key>' to a number")
        return value
