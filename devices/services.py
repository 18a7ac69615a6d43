"""Writes for devices: the stack as built and its pixels."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from samples.models import Sample, SampleKind

from .models import Device, Layer, Pixel


@dataclass
class LayerSpec:
    material: str
    function: str = ""
    nominal_thickness_nm: float | None = None
    thickness_nm: float | None = None
    method: str = ""
    run: object = None
    source: Sample | None = None


@transaction.atomic
def device_create(*, sample: Sample, layers: list[LayerSpec], pixel_names=("A", "B", "C", "D"),
                  pixel_area_cm2: float = 0.09, stack_name: str = "", architecture=None) -> Device:
    if sample.kind != SampleKind.DEVICE:
        raise ValidationError({"sample": f"{sample.label} is a {sample.get_kind_display()}, not a device."})
    if pixel_area_cm2 is None or pixel_area_cm2 <= 0:
        raise ValidationError({"pixel_area_cm2": "A pixel area must be positive (cm²)."})
    device = Device.objects.create(sample=sample, stack_name=stack_name, architecture=architecture)
    for order, spec in enumerate(layers, start=1):
        layer = Layer(device=device, order=order, material=spec.material, function=spec.function,
                      nominal_thickness_nm=spec.nominal_thickness_nm, thickness_nm=spec.thickness_nm,
                      method=spec.method, run=spec.run, source=spec.source)
        layer.full_clean()
        layer.save()
    Pixel.objects.bulk_create([
        Pixel(device=device, name=name, label=f"{sample.label}-{name}", area_cm2=pixel_area_cm2)
        for name in pixel_names
    ])
    return device
