"""A small lab, built with the services (seconds, not the minute load_demo takes): the demo's
recipes, a project member, two QD-in-matrix films with different QD-ink drip volumes, and a
device on each. Device 2 already carries the public J-L-V + EL pair (analysed, EQE 16.0 %); device 1 is left
for the upload test. Shared by the browser tests and tests/web."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model

from devices.services import LayerSpec, device_create
from measurements.models import Instrument
from measurements.services import measurement_file_ingest
from portal.demo import _chemicals, _recipes
from samples.models import Project
from samples.services import run_complete, run_plan, run_record_actuals

DATA = Path(__file__).resolve().parents[1] / "data" / "public"
PASSWORD = "lab-pass-123"


def build_lab(*, measure_device_2: bool = True) -> dict:
    user = get_user_model().objects.create_user("operator", password=PASSWORD, first_name="Ana", last_name="Operator")
    project = Project.objects.create(code="qd-test", name="QD-in-matrix test project")
    project.members.add(user)
    recipes = _recipes(_chemicals(), user)
    devices, films = [], []
    for drip_ul, stack in ((150, "A"), (180, "B")):
        run = run_plan(version=recipes["film"], project=project, operator=user)
        run_record_actuals(run, {"4.volume": (drip_ul, "µL")})
        (film,) = run_complete(run, location="Glovebox 1")
        stack_run = run_plan(version=recipes[f"stack_{stack}"], project=project, operator=user, inputs=[film])
        (dev,) = run_complete(stack_run, name=f"QD-in-matrix LED, stack {stack}")
        device_create(sample=dev, layers=[LayerSpec("ITO", "anode", 35), LayerSpec("QD-in-matrix", "EML", source=film),
                                          LayerSpec("Al", "cathode", 90)], stack_name=f"Stack {stack}")
        films.append(film)
        devices.append(dev)
    rig = Instrument.objects.create(name="J-L-V rig 1", kind="jlv")
    if measure_device_2:
        pixel = devices[1].device.pixels.get(name="A")
        # A trailing newline changes the sha256, so device 1 can still receive the original bytes;
        # a smaller stated pixel area (0.08 instead of 0.09 cm²) scales J up and EQE down to 16.0 %,
        # so the two devices differ on the Compare page.
        for name in ("jlv_sweep.csv", "el_spectrum.txt"):
            measurement_file_ingest(content=(DATA / name).read_bytes() + b"\n", filename=name, sample=devices[1],
                                    pixel=pixel, instrument=rig, user=user, parameters={"pixel_area_cm2": 0.08})
    return {"user": user, "project": project, "recipes": recipes, "films": films, "devices": devices, "rig": rig}
