from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.api.viewsets import CreateReadViewSet, LabelLookupMixin, ReadOnlyViewSet
from devices.filtersets import DeviceFilterSet, PixelFilterSet
from devices.models import Device, Layer, Pixel
from devices.services import LayerSpec, device_create

from . import serializers as s


class DeviceViewSet(LabelLookupMixin, CreateReadViewSet):
    """Devices by their sample's label (``DEV-0001``) or id; POST records the stack as built."""

    label_field = "sample__label"
    queryset = Device.objects.select_related("sample__project")
    serializer_class = s.DeviceSerializer
    list_serializer_class = s.DeviceListSerializer
    filterset_class = DeviceFilterSet
    ordering_fields = ["created_at", "stack_name"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action != "list":
            qs = qs.prefetch_related(Prefetch("layers", Layer.objects.select_related("run", "source")),
                                     Prefetch("pixels", Pixel.objects.select_related("device__sample")))
        return qs

    @extend_schema(request=s.DeviceCreateSerializer, responses={201: s.DeviceSerializer})
    def create(self, request, *args, **kwargs):
        data = s.DeviceCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        layers = [LayerSpec(**layer) for layer in fields.pop("layers")]
        device = device_create(**fields, layers=layers)
        return Response(s.DeviceSerializer(self.get_queryset().get(pk=device.pk)).data, status=status.HTTP_201_CREATED)


class PixelViewSet(LabelLookupMixin, ReadOnlyViewSet):
    """Pixels by label (``DEV-0001-A``) or id; they are made with their device."""

    queryset = Pixel.objects.select_related("device__sample")
    serializer_class = s.PixelSerializer
    filterset_class = PixelFilterSet
    ordering_fields = ["label", "created_at"]
    ordering = ["label"]
