import django_filters as filters
from django.db.models import Q

from .models import Chemical, ChemicalLot, Recipe, RecipeVersion, StepType


class ChemicalFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Search")

    class Meta:
        model = Chemical
        fields = ["q", "is_solvent", "abbreviation"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(abbreviation__icontains=value) | Q(formula__icontains=value) | Q(cas=value))


class ChemicalLotFilterSet(filters.FilterSet):
    chemical = filters.CharFilter(field_name="chemical__abbreviation")
    expires_before = filters.DateFilter(field_name="expires_on", lookup_expr="lte")

    class Meta:
        model = ChemicalLot
        fields = ["chemical", "supplier", "lot_number", "is_active"]


class RecipeFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Search")
    step_type = filters.MultipleChoiceFilter(choices=StepType.choices, distinct=False)

    class Meta:
        model = Recipe
        fields = ["q", "step_type", "is_active"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class RecipeVersionFilterSet(filters.FilterSet):
    recipe = filters.CharFilter(field_name="recipe__name", lookup_expr="icontains")
    frozen = filters.BooleanFilter(field_name="frozen_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = RecipeVersion
        fields = ["recipe", "number", "frozen"]
