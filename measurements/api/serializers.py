from __future__ import annotations

import json

from django.db.models import F
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from measurements.models import (
    Analysis,
    Calibration,
    CalibrationRole,
    DerivedMetric,
    MeasurementFile,
    MeasurementKind,
)


class MetricSerializer(serializers.ModelSerializer):
    sample = serializers.CharField(source="sample.label", read_only=True)
    device = serializers.CharField(source="device.sample.label", read_only=True, allow_null=True, default=None)
    pixel = serializers.CharField(source="pixel.label", read_only=True, allow_null=True, default=None)
    flags = serializers.ListField(child=serializers.CharField(), read_only=True,
                                  help_text="Caveats on this number (e.g. extrapolated); empty when none")
    warnings = serializers.SerializerMethodField(help_text="The warnings of the analysis that gave this number")

    class Meta:
        model = DerivedMetric
        fields = ["id", "name", "value", "unit", "uncertainty", "scope", "aggregate", "n_pixels", "sample", "device",
                  "pixel", "subject", "analysis", "method", "version", "superseded", "flags", "warnings", "extra",
                  "created_at"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, obj) -> list[str]:
        if hasattr(obj, "analysis_warnings"):  # with_warnings(): read in the same query
            return list(obj.analysis_warnings or [])
        return list(obj.analysis.warnings or []) if obj.analysis_id else []


def with_warnings(metrics):
    """Metric rows with their analysis's warnings in the same query: a query per row otherwise,
    and select_related("analysis") would fetch every analysis's stored curves (≈24 kB each)."""
    return metrics.annotate(analysis_warnings=F("analysis__warnings"))


class CalibrationSerializer(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.name", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Calibration
        fields = ["id", "instrument", "role", "original_name", "sha256", "valid_from", "valid_until", "notes",
                  "uploaded_by", "created_at"]


class CalibrationUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, use_url=False,
                                 help_text="Two columns: wavelength (nm) and the calibration value")
    instrument = serializers.CharField(max_length=120, help_text="Instrument name or id")
    role = serializers.ChoiceField(CalibrationRole.choices)
    valid_from = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate_valid_from(self, value):
        return _check_datetime(value)

    def validate_valid_until(self, value):
        return None if value is None else _check_datetime(value)


def _check_datetime(value):
    from django import forms

    from core.filters import check_datetime

    try:
        return check_datetime(value)
    except forms.ValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None


class AnalysisSerializer(serializers.ModelSerializer):
    """One analysis of a file: what ran, on what, with which calibrations, what it warned about."""

    sources = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text="Measurement file ids")
    calibrations = serializers.PrimaryKeyRelatedField(many=True, read_only=True, help_text="Calibration ids")
    pixel = serializers.CharField(source="pixel.label", read_only=True, allow_null=True, default=None)
    sample = serializers.CharField(source="sample.label", read_only=True)
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)
    metrics = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = ["id", "kind", "subject", "method", "version", "sample", "pixel", "superseded", "parameters",
                  "sources", "calibrations", "warnings", "metrics", "created_at"]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_metrics(self, obj) -> list[dict]:
        return [{"name": m.name, "value": m.value, "unit": m.unit, "uncertainty": m.uncertainty, "flags": list(m.flags),
                 "pixel_id": m.pixel_id, "aggregate": m.aggregate, "superseded": m.superseded} for m in obj.metrics.all()]


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
    calibrations = serializers.SerializerMethodField(help_text="Calibration ids named for this file")
    metrics = serializers.SerializerMethodField(help_text="Metrics derived from this file (current ones first)")
    analyses = serializers.SerializerMethodField(help_text="Every analysis that used this file, current first, "
                                                           "with its warnings")

    class Meta(MeasurementFileListSerializer.Meta):
        fields = [*MeasurementFileListSerializer.Meta.fields, "size_bytes", "format", "measured_at", "metadata",
                  "parameters", "calibrations", "failure_reason", "attempts", "started_at", "finished_at",
                  "uploaded_by", "analyses", "metrics"]

    def _just_created(self, obj) -> bool:
        """The row this request inserted (the upload's 201): no analysis can name it yet in the
        snapshot the response describes (status queued/stored/failed as created), so its analyses and
        metrics are empty without asking; a client polls ``url`` for them."""
        return self.context.get("just_created") is obj

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_calibrations(self, obj) -> list[int]:
        # The upload's 201 lists the calibrations the request itself named (the view passes them),
        # so the response asks no query for what the service just set.
        if self._just_created(obj) and "just_created_calibrations" in self.context:
            return [c.pk for c in self.context["just_created_calibrations"]]
        return [c.pk for c in obj.calibrations.all()]

    @extend_schema_field(MetricSerializer(many=True))
    def get_metrics(self, obj):
        if self._just_created(obj):
            return []
        rows = with_warnings(DerivedMetric.objects.filter(analysis__sources=obj)
                             .select_related("sample", "device__sample", "pixel").order_by("superseded", "name", "-created_at"))
        return MetricSerializer(rows, many=True).data

    @extend_schema_field(AnalysisSerializer(many=True))
    def get_analyses(self, obj):
        if self._just_created(obj):
            return []
        rows = (obj.analyses.select_related("sample", "pixel").prefetch_related("sources", "calibrations", "metrics")
                .order_by("superseded", "-created_at", "-id"))
        return AnalysisSerializer(rows, many=True).data


class ReanalysisSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(MeasurementKind.choices, required=False, allow_blank=True, default="",
                                   help_text="Analyse it as this kind (e.g. a file stored as other)")
    parameters = serializers.DictField(required=False, default=dict,
                                       help_text="Merged into the file's parameters; null removes one")
    column_map = serializers.DictField(required=False, allow_null=True, default=None,
                                       help_text="Parser column map, e.g. {\"columns\": {\"wavelength_nm\": 0, ...}}; {} removes it")
    sample_column = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None, max_length=120,
                                          help_text="For a multi-sample file: analyse this sample column only")
    calibrations = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False,
                                         allow_null=True, default=None,
                                         help_text="Calibration ids for this file ([] to use the instrument's)")


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
    calibrations = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                         help_text="Comma-separated calibration ids this file uses (else the "
                                                   "instrument's valid at measured_at)")
    column_map = JSONStringField(required=False, default=dict,
                                 help_text="Parser column map as a JSON object (odd headers)")

    def validate_measured_at(self, value):
        from django import forms

        from core.filters import check_datetime

        try:
            return check_datetime(value)
        except forms.ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
    parameters = JSONStringField(required=False, default=dict,
                                 help_text="Analysis parameters as a JSON object, e.g. {\"pixel_area_cm2\": 0.04}")


class MetricNameSerializer(serializers.Serializer):
    """A canonical metric name and how people read it (measurements.metric_names)."""

    name = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    heading = serializers.CharField()
    digits = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True)
