from __future__ import annotations

from rest_framework import serializers

from core.api.fields import RestrictedSlugRelatedField
from devices.models import Device, Layer, Pixel
from recipes.models import RecipeVersion
from samples.models import ProcessRun, Sample, SampleKind


class PixelSerializer(serializers.ModelSerializer):
    device = serializers.CharField(source="device.sample.label", read_only=True)

    class Meta:
        model = Pixel
        fields = ["id", "label", "name", "device", "area_cm2", "notes", "created_at"]


class LayerSerializer(serializers.ModelSerializer):
    run = serializers.SlugRelatedField(slug_field="label", read_only=True)
    source = serializers.SlugRelatedField(slug_field="label", read_only=True)

    class Meta:
        model = Layer
        fields = ["order", "material", "function", "nominal_thickness_nm", "thickness_nm", "method", "run", "source"]


class DeviceListSerializer(serializers.ModelSerializer):
    label = serializers.CharField(source="sample.label", read_only=True)
    project = serializers.CharField(source="sample.project.code", read_only=True)

    class Meta:
        model = Device
        fields = ["id", "label", "project", "stack_name", "encapsulated", "created_at"]


class DeviceSerializer(DeviceListSerializer):
    sample = serializers.IntegerField(source="sample_id", read_only=True)
    layers = LayerSerializer(many=True, read_only=True)
    pixels = PixelSerializer(many=True, read_only=True)

    class Meta(DeviceListSerializer.Meta):
        fields = [*DeviceListSerializer.Meta.fields, "sample", "architecture", "layers", "pixels"]


class LayerInputSerializer(serializers.Serializer):
    material = serializers.CharField(max_length=120)
    function = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    nominal_thickness_nm = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
    thickness_nm = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)
    method = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    run = RestrictedSlugRelatedField(slug_field="label", queryset=ProcessRun.objects.all(), required=False,
                                     allow_null=True, default=None)
    source = RestrictedSlugRelatedField(slug_field="label", queryset=Sample.objects.all(), required=False,
                                        allow_null=True, default=None)


class DeviceCreateSerializer(serializers.Serializer):
    sample = RestrictedSlugRelatedField(slug_field="label", queryset=Sample.objects.filter(kind=SampleKind.DEVICE),
                                        help_text="Label of a sample of kind device without device facts yet")
    stack_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    architecture = serializers.PrimaryKeyRelatedField(queryset=RecipeVersion.objects.all(), required=False,
                                                      allow_null=True, default=None)
    pixel_names = serializers.ListField(child=serializers.CharField(max_length=8), default=["A", "B", "C", "D"],
                                       allow_empty=False, max_length=64)
    pixel_area_cm2 = serializers.FloatField(default=0.09)
    layers = LayerInputSerializer(many=True, required=False, default=list)

    def validate_sample(self, sample):
        if Device.objects.filter(sample=sample).exists():
            raise serializers.ValidationError(f"{sample.label} already has its device facts.")
        return sample

    def validate_pixel_names(self, names):
        if len(set(names)) != len(names):
            raise serializers.ValidationError("Pixel names must be unique.")
        return names
