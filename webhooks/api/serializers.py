from __future__ import annotations

from rest_framework import serializers

from core.api.fields import RestrictedSlugRelatedField
from samples.models import Project
from webhooks.models import Delivery, Event, Webhook


class WebhookSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="code", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(Event.choices))

    class Meta:
        model = Webhook
        fields = ["id", "project", "url", "events", "description", "is_active", "consecutive_failures", "disabled_at",
                  "disabled_reason", "created_at", "updated_at"]
        read_only_fields = ["consecutive_failures", "disabled_at", "disabled_reason", "created_at", "updated_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    """The answer to a create: the only time the API shows the signing secret."""

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookCreateSerializer(serializers.Serializer):
    project = RestrictedSlugRelatedField(slug_field="code", queryset=Project.objects.all())
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(Event.choices), allow_empty=False)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class WebhookUpdateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(Event.choices), allow_empty=False, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_active = serializers.BooleanField(required=False)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["id", "event", "status", "attempts", "response_status", "error", "next_attempt_at", "created_at",
                  "delivered_at", "payload", "log"]
