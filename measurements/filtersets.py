import django_filters as filters
from django.db.models import Exists, OuterRef

from core.filters import DateTimeFilter

from .models import DerivedMetric, FileStatus, MeasurementFile, MeasurementKind, MetricScope


class MeasurementFileFilterSet(filters.FilterSet):
    sample = filters.CharFilter(field_name="sample__label")
    pixel = filters.CharFilter(field_name="pixel__label")
    kind = filters.MultipleChoiceFilter(choices=MeasurementKind.choices, distinct=False)
    status = filters.MultipleChoiceFilter(choices=FileStatus.choices, distinct=False)
    uploaded_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = MeasurementFile
        fields = ["sample", "pixel", "kind", "status", "instrument", "sha256"]


class CharInFilter(filters.BaseInFilter, filters.CharFilter):
    pass


class DerivedMetricFilterSet(filters.FilterSet):
    name = filters.CharFilter()
    value_min = filters.NumberFilter(field_name="value", lookup_expr="gte")
    value_max = filters.NumberFilter(field_name="value", lookup_expr="lte")
    # One label or several, comma-separated (the export buttons of the lists and Compare).
    sample = CharInFilter(field_name="sample__label", lookup_expr="in", label="Sample label(s), comma-separated")
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


# Samples by a metric range, ?metric=eqe_max&metric_min=10: added to samples' SampleFilterSet by
# MeasurementsConfig.ready (samples sits below measurements and cannot import it).
SAMPLE_METRIC_FILTERS = {
    "metric": filters.CharFilter(method="filter_noop", label="Metric name (e.g. eqe_max)"),
    "metric_min": filters.NumberFilter(method="filter_noop", label="Metric ≥"),
    "metric_max": filters.NumberFilter(method="filter_noop", label="Metric ≤"),
}


def samples_with_metric(queryset, data):
    if not data.get("metric"):
        return queryset
    rows = DerivedMetric.objects.filter(sample=OuterRef("pk"), name=data["metric"], superseded=False)
    if data.get("metric_min") is not None:
        rows = rows.filter(value__gte=data["metric_min"])
    if data.get("metric_max") is not None:
        rows = rows.filter(value__lte=data["metric_max"])
    return queryset.filter(Exists(rows))
