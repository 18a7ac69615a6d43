from __future__ import annotations

import json

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from measurements.models import DerivedMetric, MeasurementFile, MeasurementKind


class MetricSerializer(serializers.ModelSerializer):
    sample = serializers.CharField(source="sample.label", read_only=True)
    device = serializers.CharField(source="device.sample.label", read_only=True, allow_null=True, default=None)
    pixel = serializers.CharField(source="pixel.label", read_only=True, allow_null=True, default=None)

    class Meta:
        model = DerivedMetric
        fields = ["id", "name", "value", "unit", "uncertainty", "scope", "aggregate", "n_pixels", "sample", "device",
                  "pixel", "analysis", "method", "version", "superseded", "flags", "extra", "created_at"]


class MeasurementFileListSerializer(serializers.ModelSerializer):
    sample = serializers.CharField(source="sample.label", read_only=True)
    pixel = serializers.CharField(source="pixel.label", read_only=True, allow_null=True, default=None)
    instrument = serializers.CharField(source="instrument.name", read_only=True, allow_null=True, default=None)
    url = serializers.SerializerMethodField(help_text="Poll this until status is done or failed")

    class Meta:
        model = MeasurementFile
        fields = ["id", "url", "sha256", "original_name", "kind", "status", "sample", "pixel", "instrument",
                  "created_at"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, obj) -> str:
        path = reverse("api:measurementfile-detail", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class MeasurementFileSerializer(MeasurementFileListSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    metrics = serializers.SerializerMethodField(help_text="Metrics derived from this file (current ones first)")

    class Meta(MeasurementFileListSerializer.Meta):
        fields = [*MeasurementFileListSerializer.Meta.fields, "size_bytes", "format", "measured_at", "metadata",
                  "parameters", "failure_reason", "attempts", "started_at", "finished_at", "uploaded_by", "metrics"]

    @extend_schema_field(MetricSerializer(many=True))
    def get_metrics(self, obj):
        rows = (DerivedMetric.objects.filter(analysis__sources=obj)
                .select_related("sample", "device__sample", "pixel").order_by("superseded", "name", "-created_at"))
        return MetricSerializer(rows, many=True).data


@extend_schema_field(OpenApiTypes.STR)
class JSONStringField(serializers.JSONField):
    """A JSON object sent as a multipart form field (a string), or as an object in JSON bodies."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError as exc:
                raise serializers.ValidationError(f"Not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected a JSON object.")
        return data


class MeasurementUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, use_url=False)
    sample = serializers.CharField(max_length=40, help_text="Sample label (DEV-0001) or pixel label (DEV-0001-A)")
    kind = serializers.ChoiceField(MeasurementKind.choices, required=False, allow_blank=True, default="",
                                   help_text="Sniffed from the content when left out")
    instrument = serializers.CharField(required=False, allow_blank=True, default="", max_length=120,
                                       help_text="Instrument name or id")
    measured_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    metadata = JSONStringField(required=False, default=dict, help_text="JSON object, e.g. {\"operator\": \"ab\"}")

    def validate_measured_at(self, value):
        from django import forms

        from core.filters import check_datetime

        try:
            return check_datetime(value)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
    parameters = JSONStringField(required=False, default=dict,
                                 help_text="Analysis parameters as a JSON object, e.g. {\"pixel_area_cm2\": 0.04}")
