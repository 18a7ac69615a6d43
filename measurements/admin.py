from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from recipes.admin import NoDeleteMixin

from .models import Analysis, DerivedMetric, Instrument, MeasurementFile, Plot


@admin.register(Instrument)
class InstrumentAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("name", "kind", "model", "serial", "location", "xray_wavelength_a")
    list_filter = ("kind",)
    search_fields = ("name", "model", "serial")


@admin.register(MeasurementFile)
class MeasurementFileAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("original_name", "kind", "format", "sample", "pixel", "status", "attempts", "uploaded_by", "created_at")
    list_filter = ("status", "kind", "format", "instrument", "hidden")
    search_fields = ("original_name", "sha256", "sample__label", "pixel__label", "failure_reason")
    date_hierarchy = "created_at"
    readonly_fields = ("sha256", "size_bytes", "file", "status", "failure_reason", "attempts", "started_at", "finished_at", "format")
    autocomplete_fields = ("sample", "pixel", "instrument")


class MetricInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = DerivedMetric
    extra = 0
    fields = ("name", "value", "unit", "scope", "pixel", "superseded")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Analysis)
class AnalysisAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("id", "kind", "method", "version", "sample", "pixel", "superseded", "created_at")
    list_filter = ("kind", "method", "version", "superseded")
    search_fields = ("sample__label", "pixel__label", "method")
    readonly_fields = ("kind", "method", "version", "parameters", "sources", "sample", "pixel", "superseded", "warnings", "result")
    inlines = [MetricInline]


@admin.register(DerivedMetric)
class DerivedMetricAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("name", "value", "unit", "scope", "aggregate", "sample", "pixel", "method", "version", "superseded", "created_at")
    list_filter = ("name", "scope", "aggregate", "superseded", "method", "version")
    search_fields = ("name", "sample__label", "pixel__label")
    readonly_fields = [f.name for f in DerivedMetric._meta.fields]


@admin.register(Plot)
class PlotAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("name", "title", "analysis")
    search_fields = ("name", "analysis__sample__label")
    readonly_fields = ("analysis", "name", "title")
    exclude = ("svg", "png")
