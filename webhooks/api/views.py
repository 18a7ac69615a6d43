from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.access import restrict
from core.api.viewsets import ReadOnlyViewSet
from webhooks import services
from webhooks.models import Delivery, Webhook

from . import serializers as s


class WebhookViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadOnlyViewSet):
    """A project's webhooks: POST registers one (the answer shows its signing secret, once), PATCH
    changes url/events or turns it on again; ``deliveries`` is its delivery log. Never deleted:
    turn it off with ``is_active=false``."""

    queryset = Webhook.objects.select_related("project")
    serializer_class = s.WebhookSerializer
    ordering_fields = ["created_at", "id"]
    ordering = ["project", "id"]
    filterset_fields = ["is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=s.WebhookCreateSerializer, responses={201: s.WebhookCreatedSerializer})
    def create(self, request, *args, **kwargs):
        data = s.WebhookCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        hook = services.webhook_create(**data.validated_data, user=request.user)
        return Response(s.WebhookCreatedSerializer(hook).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.WebhookUpdateSerializer, responses={200: s.WebhookSerializer})
    def partial_update(self, request, *args, **kwargs):
        hook = self.get_object()
        data = s.WebhookUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.webhook_update(hook, **data.validated_data)
        return Response(s.WebhookSerializer(hook).data)

    @extend_schema(responses=s.DeliverySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        hook = self.get_object()
        rows = restrict(Delivery.objects.filter(webhook=hook), request.user).order_by("-created_at", "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.DeliverySerializer(page, many=True).data)
