import django_filters as filters

from .models import Device, Pixel


class DeviceFilterSet(filters.FilterSet):
    label = filters.CharFilter(field_name="sample__label", lookup_expr="icontains")
    project = filters.CharFilter(field_name="sample__project__code")
    material = filters.CharFilter(field_name="layers__material", lookup_expr="icontains", distinct=True)

    class Meta:
        model = Device
        fields = ["label", "project", "stack_name", "material"]


class PixelFilterSet(filters.FilterSet):
    device = filters.CharFilter(field_name="device__sample__label")

    class Meta:
        model = Pixel
        fields = ["device", "name"]
