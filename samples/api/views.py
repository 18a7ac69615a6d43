from __future__ import annotations

from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.access import restrict
from core.api.errors import Conflict
from core.api.viewsets import CreateReadViewSet, LabelLookupMixin
from samples.filtersets import ProcessRunFilterSet, SampleFilterSet
from samples.models import ProcessRun, RunStatus, RunValue, Sample, SampleParent
from samples.services import run_complete, run_plan, run_value_set_actual, sample_add_parent, sample_create

from . import serializers as s


class SampleViewSet(LabelLookupMixin, CreateReadViewSet):
    """Samples by label or id. Lineage: ``ancestors``/``descendants``; numbers: ``metrics``."""

    # (The docstring is the API's description.) samples/<pk>/metrics/ is measurements'
    # SampleMetricsViewSet, on the same prefix: metrics sit a layer above samples.

    queryset = Sample.objects.select_related("project")
    serializer_class = s.SampleSerializer
    list_serializer_class = s.SampleListSerializer
    filterset_class = SampleFilterSet
    ordering_fields = ["label", "kind", "created_at", "status"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.select_related("owner", "produced_by").prefetch_related(
                Prefetch("parent_links", SampleParent.objects.select_related("parent")))
        return qs

    def _lineage(self, samples):
        qs = restrict(samples.select_related("project"), self.request.user).order_by("created_at", "id")
        return Response(s.SampleListSerializer(qs, many=True).data)

    @extend_schema(request=s.SampleCreateSerializer, responses={201: s.SampleSerializer})
    def create(self, request, *args, **kwargs):
        data = s.SampleCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        sample = sample_create(**data.validated_data, owner=request.user)
        return Response(s.SampleSerializer(self.get_queryset().get(pk=sample.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.SampleListSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def ancestors(self, request, pk=None):
        return self._lineage(self.get_object().ancestors())

    @extend_schema(responses=s.SampleListSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None)
    def descendants(self, request, pk=None):
        return self._lineage(self.get_object().descendants())

    @extend_schema(request=s.SampleParentAddSerializer, responses={201: s.SampleSerializer})
    @action(detail=True, methods=["post"])
    def parents(self, request, pk=None):
        sample = self.get_object()
        data = s.SampleParentAddSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        sample_add_parent(sample, data.validated_data["parent"], data.validated_data["role"])
        return Response(s.SampleSerializer(self.get_queryset().get(pk=sample.pk)).data, status=status.HTTP_201_CREATED)


class ProcessRunViewSet(LabelLookupMixin, CreateReadViewSet):
    """Runs by label or id. POST plans a run (planned values copied, version frozen); PATCH records
    actual values; ``complete`` creates the output samples."""

    queryset = ProcessRun.objects.select_related("recipe_version__recipe", "project", "operator")
    serializer_class = s.RunSerializer
    list_serializer_class = s.RunListSerializer
    filterset_class = ProcessRunFilterSet
    ordering_fields = ["label", "created_at", "planned_date", "status"]
    ordering = ["-created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.prefetch_related(
                Prefetch("values", RunValue.objects.select_related("parameter__step")), "inputs", "outputs", "lots")
        return qs

    def _detail(self, run, code=status.HTTP_200_OK):
        return Response(s.RunSerializer(self.get_queryset().get(pk=run.pk)).data, status=code)

    @extend_schema(request=s.RunCreateSerializer, responses={201: s.RunSerializer})
    def create(self, request, *args, **kwargs):
        data = s.RunCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        run = run_plan(version=fields.pop("recipe_version"), **fields, operator=request.user)
        return self._detail(run, status.HTTP_201_CREATED)

    @extend_schema(request=s.RunActualsSerializer, responses={200: s.RunSerializer})
    def partial_update(self, request, *args, **kwargs):
        run = self.get_object()
        data = s.RunActualsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {v.pk: v for v in run.values.select_related("parameter__step")}
        by_path = {f"{v.parameter.step.order}.{v.parameter.key}": v for v in values.values()}
        with transaction.atomic():  # all values or none
            for i, item in enumerate(data.validated_data["values"]):
                value = values.get(item.get("id")) or by_path.get(item.get("parameter"))
                if value is None:
                    raise ValidationError({"values": [f"item {i}: {run.label} has no such value"]})
                run_value_set_actual(value, item["actual_value"], item["actual_unit"], item["actual_text"], item["note"])
        return self._detail(run)

    @extend_schema(request=s.RunCompleteSerializer, responses={201: s.SampleListSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        run = self.get_object()
        if run.status == RunStatus.COMPLETED:
            # Completing twice would make a second set of output samples for the same run.
            raise Conflict(f"{run.label} is already completed; its outputs are {', '.join(o.label for o in run.outputs.all())}.")
        data = s.RunCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outputs = run_complete(run, **data.validated_data)
        return Response(s.SampleListSerializer(outputs, many=True).data, status=status.HTTP_201_CREATED)
