"""Writes for devices: the stack as built and its pixels."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from simple_history.utils import bulk_create_with_history

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
    layer_objs = [
        Layer(device=device, order=order, material=spec.material, function=spec.function,
              nominal_thickness_nm=spec.nominal_thickness_nm, thickness_nm=spec.thickness_nm,
              method=spec.method, run=spec.run, source=spec.source)
        for order, spec in enumerate(layers, start=1)
    ]
    for layer in layer_objs:
        # (device, order) is unique by construction and guarded by its UniqueConstraint; device,
        # run and source are saved rows the FK constraints guard: no SELECTs per layer for them.
        layer.full_clean(exclude=["device", "run", "source"], validate_unique=False, validate_constraints=False)
    # Bulk inserts with history rows: devices are lab records, their changes are kept.
    bulk_create_with_history(layer_objs, Layer)
    bulk_create_with_history([
        Pixel(device=device, name=name, label=f"{sample.label}-{name}", area_cm2=pixel_area_cm2)
        for name in pixel_names
    ], Pixel)
    return device
