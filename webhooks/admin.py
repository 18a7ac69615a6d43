from django.contrib import admin, messages

from recipes.admin import NoDeleteMixin

from . import services
from .models import Delivery, Webhook


class DeliveryInline(NoDeleteMixin, admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ("created_at", "event", "status", "attempts", "response_status", "error", "delivered_at")
    readonly_fields = fields
    can_delete = False
    ordering = ("-created_at",)
    max_num = 0
    show_change_link = True


@admin.register(Webhook)
class WebhookAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("project", "url", "events", "is_active", "consecutive_failures", "disabled_reason", "created_at")
    list_filter = ("is_active", "project")
    search_fields = ("url", "description", "project__code")
    readonly_fields = ("secret", "consecutive_failures", "disabled_at", "disabled_reason", "created_by")
    inlines = [DeliveryInline]
    actions = ["enable"]

    @admin.action(description="Turn on again (clears the failure count)")
    def enable(self, request, queryset):
        for hook in queryset:
            services.webhook_update(hook, is_active=True)
        self.message_user(request, f"{queryset.count()} webhook(s) on.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Delivery)
class DeliveryAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ("id", "webhook", "event", "status", "attempts", "response_status", "created_at", "delivered_at")
    list_filter = ("status", "event")
    search_fields = ("webhook__url", "error")
    readonly_fields = [f.name for f in Delivery._meta.fields]
