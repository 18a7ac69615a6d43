from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from recipes.admin import NoDeleteMixin

from .models import Device, Layer, Pixel


class LayerInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = Layer
    extra = 0
    fields = ("order", "material", "function", "nominal_thickness_nm", "thickness_nm", "method", "run", "source")
    autocomplete_fields = ("run", "source")


class PixelInline(NoDeleteMixin, admin.TabularInline):
    can_delete = False  # no hard delete of lab records, not even a row of an inline (issue 13)
    model = Pixel
    extra = 0
    fields = ("name", "label", "area_cm2", "notes")


@admin.register(Device)
class DeviceAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("sample", "stack_name", "architecture", "encapsulated", "created_at")
    list_filter = ("stack_name", "encapsulated", "architecture__recipe")
    search_fields = ("sample__label", "stack_name", "layers__material")
    autocomplete_fields = ("sample",)
    inlines = [LayerInline, PixelInline]


@admin.register(Layer)
class LayerAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("device", "order", "material", "function", "thickness_nm", "method")
    list_filter = ("material", "method", "function")
    search_fields = ("material", "device__sample__label")


@admin.register(Pixel)
class PixelAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("label", "device", "name", "area_cm2")
    search_fields = ("label", "device__sample__label")
    list_filter = ("area_cm2",)
