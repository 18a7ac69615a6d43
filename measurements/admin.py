from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from recipes.admin import NoDeleteMixin

from .models import Analysis, Calibration, DerivedMetric, Instrument, MeasurementFile, Plot
from .services import IngestError, calibration_add


class CalibrationInline(NoDeleteMixin, admin.TabularInline):
    model = Calibration
    extra = 0
    fields = ("role", "original_name", "valid_from", "valid_until", "notes")
    readonly_fields = ("role", "original_name")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # added through the Calibration form, which reads and stores the file


@admin.register(Instrument)
class InstrumentAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("name", "kind", "model", "serial", "location", "xray_wavelength_a")
    list_filter = ("kind",)
    search_fields = ("name", "model", "serial")
    inlines = [CalibrationInline]


class CalibrationAddForm(forms.ModelForm):
    upload = forms.FileField(label="Calibration file", help_text="Two columns: wavelength (nm) and value")

    class Meta:
        model = Calibration
        fields = ("instrument", "role", "valid_from", "valid_until", "notes")

    def clean(self):
        data = super().clean()
        upload = data.get("upload")
        if upload is not None and not self.errors:
            try:
                self.instance = calibration_add(
                    instrument=data["instrument"], role=data["role"], content=upload.read(), filename=upload.name,
                    valid_from=data["valid_from"], valid_until=data.get("valid_until"), notes=data.get("notes", ""),
                    user=getattr(self, "user", None))
            except IngestError as exc:
                raise forms.ValidationError({exc.field if exc.field in ("valid_until", "role") else "upload": str(exc)})
        return data


@admin.register(Calibration)
class CalibrationAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("instrument", "role", "original_name", "valid_from", "valid_until", "uploaded_by")
    list_filter = ("role", "instrument")
    search_fields = ("original_name", "instrument__name", "sha256")
    readonly_fields = ("sha256", "original_name", "file", "uploaded_by")

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*CalibrationAddForm.Meta.fields, "upload"]
        return super().get_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:  # adding: the file is read and stored by the service
            kwargs.update(form=CalibrationAddForm, fields=CalibrationAddForm.Meta.fields)
            form = super().get_form(request, obj, **kwargs)
            form.user = request.user
            return form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else (*self.readonly_fields, "instrument", "role")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        # new: calibration_add already saved it in the form's clean()


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
