"""Small builders for API tests: the real services, a handful of rows, no analyses."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.api.permissions import INSTRUMENT_GROUP
from devices.services import LayerSpec, device_create
from measurements.models import Aggregate, DerivedMetric, Instrument, MetricScope
from measurements.services import measurement_file_ingest
from recipes.models import ChemicalLot, StepType
from recipes.services import ParamSpec, StepSpec, chemical_get_or_create, recipe_create
from samples.models import Project, SampleKind
from samples.services import run_complete, run_plan, run_value_set_actual, sample_create
from tests.tokens import key_for

_seq = itertools.count(1)


def user(username: str, *, instrument: bool = False, projects=()):
    account = get_user_model().objects.create_user(username=username, password="pw-for-tests")
    if instrument:
        account.groups.add(Group.objects.get_or_create(name=INSTRUMENT_GROUP)[0])
    for project in projects:
        project.members.add(account)
    return account


def token(account) -> str:
    return key_for(account)


def project(code: str) -> Project:
    return Project.objects.create(code=code, name=code.title())


def chemical(name: str = "Lead(II) iodide"):
    chem = chemical_get_or_create(name=name, abbreviation="PbI2", formula="PbI2", ions={"Pb": 1, "I": 2})
    ChemicalLot.objects.get_or_create(chemical=chem, supplier="Test", lot_number="T-1")
    return chem


def recipe(name: str | None = None, *, output_kind: str = SampleKind.DEVICE):
    """A one-step recipe with a ranged spin speed, a time and a text parameter."""
    return recipe_create(
        name=name or f"Test recipe {next(_seq)}", step_type=StepType.SPIN_COATING, output_kind=output_kind,
        steps=[StepSpec("Spin", "spin", params=[
            ParamSpec(key="speed", name="Speed", nominal=3000, unit="rpm", min_value=2900, max_value=3100),
            ParamSpec(key="time", name="Time", nominal=30, unit="s"),
            ParamSpec(key="solvent", name="Solvent", value_type="text", text_value="toluene"),
        ])])


def device(proj: Project, owner, *, version=None, parents=()):
    """A completed run whose output is a device sample with pixels A–D (0.09 cm²)."""
    version = version or recipe()
    run = run_plan(version=version, project=proj, operator=owner, inputs=parents)
    speed = run.values.get(parameter__key="speed")
    run_value_set_actual(speed, 3050, "rpm")
    (sample,) = run_complete(run, owner=owner)
    return device_create(sample=sample, layers=[LayerSpec("ITO", "anode", 35)], pixel_area_cm2=0.09, stack_name="T")


def lineage(proj: Project, owner):
    """QD batch → device (made by a run that took the batch as input), so the device has an ancestor."""
    qd_run = run_plan(version=recipe(output_kind=SampleKind.QD_BATCH), project=proj, operator=owner)
    (qd,) = run_complete(qd_run, owner=owner)
    return qd, device(proj, owner, parents=[qd])


def metric(dev, name: str = "eqe_max", value: float = 10.0, *, pixel=None, unit: str = "%", superseded=False):
    return DerivedMetric.objects.create(
        name=name, value=value, unit=unit, sample=dev.sample, device=dev, pixel=pixel,
        scope=MetricScope.PIXEL if pixel else MetricScope.DEVICE, aggregate=Aggregate.VALUE,
        method="test", version="1", superseded=superseded)


def stored_file(dev, owner, content: bytes = b"notes from the glovebox\n"):
    """A measurement file stored without analysis (kind other), attached to the device."""
    return measurement_file_ingest(content=content, filename="notes.txt", sample=dev.sample, kind="other",
                                   user=owner).file


def instrument(name: str = "J-L-V rig 1") -> Instrument:
    return Instrument.objects.get_or_create(name=name, defaults={"kind": "jlv"})[0]


__all__ = ["chemical", "device", "instrument", "lineage", "metric", "project", "recipe", "sample_create", "stored_file", "token", "user"]
