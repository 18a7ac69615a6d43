"""One FilterSet per model, shared by the HTML list pages and the API (as NetBox does).

The apps above samples add sample filters on what they own (measurements: ``?metric=eqe_max&
metric_min=10``) with ``register_sample_filters`` from their AppConfig.ready, so samples imports
none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import django_filters as filters
from django.db.models import Exists, OuterRef, Q

from core.access import restrict
from recipes.models import Recipe, RecipeParameter
from samples.models import ProcessRun, Project, RunStatus, Sample, SampleKind, SampleStatus


def visible_projects(request):
    """The project choices: only the user's own, so a list page never names another project and
    the API answers a foreign code as it answers an unknown one (400, not an empty 200)."""
    return restrict(Project.objects.all(), getattr(request, "user", None))


class SampleFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Search")
    # distinct=False: a column of the row itself, nothing to deduplicate (django-filter's default
    # DISTINCT made PostgreSQL sort whole joined rows for ?kind=device, issue 15).
    kind = filters.MultipleChoiceFilter(choices=SampleKind.choices, distinct=False)
    status = filters.MultipleChoiceFilter(choices=SampleStatus.choices, distinct=False)
    project = filters.ModelChoiceFilter(queryset=visible_projects, field_name="project", to_field_name="code")
    created_after = filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="Created on or after")
    created_before = filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="Created on or before")
    recipe = filters.ModelChoiceFilter(queryset=Recipe.objects.all(), field_name="produced_by__recipe_version__recipe",
                                       label="Made by recipe")
    recipe_version = filters.NumberFilter(field_name="produced_by__recipe_version__number", label="Recipe version")
    # Recipe parameter: ?param=volume&param_min=100&param_max=200 (planned or, if logged, actual value)
    param = filters.CharFilter(method="filter_noop", label="Recipe parameter key (e.g. volume)")
    param_min = filters.NumberFilter(method="filter_noop", label="Parameter ≥")
    param_max = filters.NumberFilter(method="filter_noop", label="Parameter ≤")

    class Meta:
        model = Sample
        fields = ["q", "kind", "status", "project", "recipe", "owner"]

    def filter_noop(self, queryset, name, value):
        return queryset  # combined in filter_queryset, where all three values are known

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(label__icontains=value) | Q(name__icontains=value) | Q(notes__icontains=value))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        if data.get("param"):
            from samples.models import RunValue

            values = RunValue.objects.filter(run=OuterRef("produced_by"), parameter__key=data["param"])
            lo, hi = data.get("param_min"), data.get("param_max")
            # Actual value if logged, else the planned nominal.
            cond = Q()
            if lo is not None:
                cond &= Q(actual_value__gte=lo) | Q(actual_value__isnull=True, planned_nominal__gte=lo)
            if hi is not None:
                cond &= Q(actual_value__lte=hi) | Q(actual_value__isnull=True, planned_nominal__lte=hi)
            queryset = queryset.filter(Exists(values.filter(cond)))
        for apply in _EXTRA_SAMPLE_FILTERS:
            queryset = apply(queryset, data)
        return queryset


# (queryset, cleaned data) → queryset, run after the declared filters; see register_sample_filters.
SampleQuery = Callable[[Any, Mapping[str, Any]], Any]
_EXTRA_SAMPLE_FILTERS: list[SampleQuery] = []


def register_sample_filters(declared: Mapping[str, filters.Filter], apply: SampleQuery) -> None:
    """Add ``declared`` filters to SampleFilterSet (the list page's form, the API and its schema
    alike), combined by ``apply(queryset, cleaned_data)``. Give them ``method="filter_noop"`` when
    ``apply`` reads several at once. Call from an AppConfig.ready; a second call changes nothing."""
    for name, filter_ in declared.items():
        filter_.field_name = filter_.field_name or name  # what the class statement would have set
        SampleFilterSet.base_filters[name] = filter_
    if apply not in _EXTRA_SAMPLE_FILTERS:
        _EXTRA_SAMPLE_FILTERS.append(apply)


class ProcessRunFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Search")
    status = filters.MultipleChoiceFilter(choices=RunStatus.choices, distinct=False)
    project = filters.ModelChoiceFilter(queryset=visible_projects, to_field_name="code")
    recipe = filters.ModelChoiceFilter(queryset=Recipe.objects.all(), field_name="recipe_version__recipe")
    has_deviation = filters.BooleanFilter(method="filter_deviation", label="Has deviations")
    planned_after = filters.DateFilter(field_name="planned_date", lookup_expr="gte")
    planned_before = filters.DateFilter(field_name="planned_date", lookup_expr="lte")

    class Meta:
        model = ProcessRun
        fields = ["q", "status", "project", "recipe", "operator"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(label__icontains=value) | Q(recipe_version__recipe__name__icontains=value) | Q(notes__icontains=value))

    def filter_deviation(self, queryset, name, value):
        from samples.models import RunValue

        dev = Exists(RunValue.objects.filter(run=OuterRef("pk"), is_deviation=True))
        return queryset.filter(dev) if value else queryset.exclude(dev)


__all__ = ["SampleFilterSet", "ProcessRunFilterSet", "RecipeParameter"]
