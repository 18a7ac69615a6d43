from django.contrib import admin

from .models import Printer, PrintJob


@admin.register(Printer)
class PrinterAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "model", "host", "port", "label", "width_mm", "height_mm", "dpi", "location", "enabled"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "host", "location"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "host", "port", "location", "enabled"]}),
        ("Brother QL", {"fields": ["model", "label"], "description": "Model such as QL-820NWB; label 62 (endless) or 62x29 (die-cut)."}),
        ("Zebra / label size", {"fields": ["width_mm", "height_mm", "dpi"]}),
    ]


@admin.register(PrintJob)
class PrintJobAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "printer", "status", "failure_reason", "created_at", "sent_at", "requested_by"]
    list_filter = ["status", "printer"]
    search_fields = ["title", "url"]
    readonly_fields = [f.name for f in PrintJob._meta.fields]

    def has_add_permission(self, request):
        return False  # jobs come from the Print label buttons and the API
