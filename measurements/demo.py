"""Demo measurements: the public reference files (instrument-like, known answers) attached to the
demo lineage and analysed through the same ingest → task → metrics path as an upload."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from .models import Instrument
from .services import measurement_file_ingest

DATA = Path(settings.BASE_DIR) / "tests" / "data" / "public"


def load_demo_measurements(demo: dict, *, user) -> list:
    jlv_rig, _ = Instrument.objects.get_or_create(name="J-L-V rig 1", defaults={
        "kind": "jlv", "model": "Keithley 2400 + QE Pro", "location": "Glovebox 2"})
    xrd, _ = Instrument.objects.get_or_create(name="Powder XRD", defaults={
        "kind": "xrd", "model": "Cu Kα diffractometer", "xray_wavelength_a": 1.5406})
    spectro, _ = Instrument.objects.get_or_create(name="PL/TRPL setup", defaults={"kind": "pl"})
    lifetime_rack, _ = Instrument.objects.get_or_create(name="Lifetime rack", defaults={"kind": "lifetime"})
    device = demo["devices"]["QD-in-matrix LED, stack A"]
    pixels = {p.name: p for p in device.pixels.all()}
    plan = [
        ("jlv_sweep.csv", device.sample, pixels["A"], "jlv", jlv_rig),
        ("el_spectrum.txt", device.sample, pixels["A"], "el", jlv_rig),
        ("lifetime_1.csv", device.sample, pixels["A"], "lifetime", lifetime_rack),
        ("lifetime_2.csv", device.sample, pixels["B"], "lifetime", lifetime_rack),
        ("lifetime_3.csv", device.sample, pixels["C"], "lifetime", lifetime_rack),
        ("lifetime_4.csv", device.sample, pixels["D"], "lifetime", lifetime_rack),
        ("pl_spectrum.txt", demo["film"], None, "pl", spectro),
        ("trpl.dat", demo["film"], None, "trpl", spectro),
        ("xrd.xy", demo["film"], None, "xrd", xrd),
    ]
    files = []
    for name, sample, pixel, kind, instrument in plan:
        result = measurement_file_ingest(content=(DATA / name).read_bytes(), filename=name, sample=sample, pixel=pixel,
                                         kind=kind, instrument=instrument, user=user)
        files.append(result.file)
    return files
