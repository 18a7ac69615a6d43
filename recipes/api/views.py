from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.errors import Conflict
from core.api.viewsets import CreateReadViewSet, ReadOnlyViewSet
from recipes.filtersets import ChemicalFilterSet, ChemicalLotFilterSet, RecipeFilterSet, RecipeVersionFilterSet
from recipes.models import Chemical, ChemicalLot, Recipe, RecipeParameter, RecipeStep, RecipeVersion
from recipes.services import (
    FrozenVersionError,
    chemical_get_or_create,
    recipe_create,
    recipe_parameter_update,
    recipe_version_revise,
)

from . import serializers as s


class ChemicalViewSet(CreateReadViewSet):
    queryset = Chemical.objects.all()
    serializer_class = s.ChemicalSerializer
    list_serializer_class = s.ChemicalListSerializer
    filterset_class = ChemicalFilterSet
    ordering_fields = ["name", "abbreviation", "created_at"]
    ordering = ["name"]

    def perform_create(self, serializer):
        serializer.instance = chemical_get_or_create(**serializer.validated_data)


class ChemicalLotViewSet(ReadOnlyViewSet):
    queryset = ChemicalLot.objects.select_related("chemical")
    serializer_class = s.ChemicalLotSerializer
    filterset_class = ChemicalLotFilterSet
    ordering_fields = ["received_on", "expires_on", "lot_number"]
    ordering = ["chemical__name", "-received_on"]


class RecipeViewSet(CreateReadViewSet):
    queryset = Recipe.objects.all()
    serializer_class = s.RecipeSerializer
    list_serializer_class = s.RecipeListSerializer
    filterset_class = RecipeFilterSet
    ordering_fields = ["name", "step_type", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.prefetch_related(Prefetch("versions", RecipeVersion.objects.select_related("recipe")))
        return qs

    @extend_schema(request=s.RecipeCreateSerializer, responses={201: s.RecipeSerializer})
    def create(self, request, *args, **kwargs):
        data = s.RecipeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        steps = s.steps_to_specs(fields.pop("steps"))
        version = recipe_create(**fields, steps=steps, user=request.user)
        return Response(s.RecipeSerializer(self.get_queryset().get(pk=version.recipe_id)).data,
                        status=status.HTTP_201_CREATED)


class RecipeVersionViewSet(ReadOnlyViewSet):
    """Versions are never edited once frozen; ``revise`` makes the next one (the old stays intact)."""

    queryset = RecipeVersion.objects.select_related("recipe")
    serializer_class = s.RecipeVersionSerializer
    list_serializer_class = s.RecipeVersionListSerializer
    filterset_class = RecipeVersionFilterSet
    ordering_fields = ["number", "created_at"]
    ordering = ["recipe__name", "-number"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            steps = RecipeStep.objects.prefetch_related(
                Prefetch("parameters", RecipeParameter.objects.order_by("order", "id")))
            qs = qs.prefetch_related(Prefetch("steps", steps))
        return qs

    @extend_schema(request=s.RecipeReviseSerializer, responses={201: s.RecipeVersionSerializer})
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        version = self.get_object()
        data = s.RecipeReviseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        steps = data.validated_data.get("steps")
        new = recipe_version_revise(version, changes=data.validated_data.get("changes"),
                                    steps=s.steps_to_specs(steps) if steps else None,
                                    notes=data.validated_data["notes"], user=request.user)
        return Response(s.RecipeVersionSerializer(self.get_queryset().get(pk=new.pk)).data,
                        status=status.HTTP_201_CREATED)


class RecipeParameterViewSet(mixins.UpdateModelMixin, ReadOnlyViewSet):
    """PATCH edits a parameter in place only while its version is unfrozen (409 otherwise)."""

    queryset = RecipeParameter.objects.select_related("step__version")
    serializer_class = s.RecipeParameterSerializer
    filterset_fields = ["step__version", "key"]
    ordering_fields = ["order", "id"]
    ordering = ["step__version", "step__order", "order", "id"]
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=s.RecipeParameterUpdateSerializer, responses={200: s.RecipeParameterSerializer})
    def partial_update(self, request, *args, **kwargs):
        param = self.get_object()
        data = s.RecipeParameterUpdateSerializer(param, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            param = recipe_parameter_update(param, **data.validated_data)
        except FrozenVersionError as exc:
            raise Conflict(exc.messages[0]) from None
        return Response(s.RecipeParameterSerializer(param).data)
