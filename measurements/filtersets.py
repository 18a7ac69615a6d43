import django_filters as filters

from core.filters import DateTimeFilter

from .models import DerivedMetric, FileStatus, MeasurementFile, MeasurementKind, MetricScope


class MeasurementFileFilterSet(filters.FilterSet):
    sample = filters.CharFilter(field_name="sample__label")
    pixel = filters.CharFilter(field_name="pixel__label")
    kind = filters.MultipleChoiceFilter(choices=MeasurementKind.choices)
    status = filters.MultipleChoiceFilter(choices=FileStatus.choices)
    uploaded_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = MeasurementFile
        fields = ["sample", "pixel", "kind", "status", "instrument", "sha256"]


class DerivedMetricFilterSet(filters.FilterSet):
    name = filters.CharFilter()
    value_min = filters.NumberFilter(field_name="value", lookup_expr="gte")
    value_max = filters.NumberFilter(field_name="value", lookup_expr="lte")
    sample = filters.CharFilter(field_name="sample__label")
    project = filters.CharFilter(field_name="sample__project__code")
    device = filters.CharFilter(field_name="device__sample__label")
    pixel = filters.CharFilter(field_name="pixel__label")
    method = filters.CharFilter()
    version = filters.CharFilter()
    scope = filters.ChoiceFilter(choices=MetricScope.choices)
    superseded = filters.BooleanFilter()

    class Meta:
        model = DerivedMetric
        fields = ["name", "project", "sample", "device", "pixel", "method", "version", "scope", "aggregate", "superseded"]
