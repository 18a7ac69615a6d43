"""Small factories for the web-page tests: one project with a member, a recipe with a ranged and an
unranged parameter, a short lineage, a device with pixels and metrics."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from devices.services import LayerSpec, device_create
from measurements.models import Analysis, DerivedMetric, FileStatus, MeasurementFile, Plot
from recipes.models import ChemicalLot, RecipeParameter, RecipeStep
from recipes.services import ParamSpec, StepSpec, chemical_get_or_create, recipe_create
from samples.models import Project
from samples.services import run_complete, run_plan, run_record_actuals, sample_create


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password="pw", first_name="Alice")


@pytest.fixture
def project(user):
    p = Project.objects.create(code="qd", name="QD LEDs")
    p.members.add(user)
    return p


@pytest.fixture
def other_project(db):
    return Project.objects.create(code="secret", name="Someone else's")


@pytest.fixture
def client_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def chemical(db):
    chem = chemical_get_or_create(name="Lead(II) iodide", abbreviation="PbI2", formula="PbI2")
    ChemicalLot.objects.create(chemical=chem, supplier="TCI", lot_number="LOT-PB-7", location="Glovebox 1")
    return chem


@pytest.fixture
def version(user, chemical):
    return recipe_create(
        name="QD-in-matrix film", step_type="spin_coating", output_kind="film", user=user,
        steps=[
            StepSpec(name="Weigh", action=RecipeStep.Action.ADD, params=[
                ParamSpec(key="pbi2", name="PbI₂", nominal=92.2, unit="mg", role=RecipeParameter.Role.COMPONENT, chemical=chemical),
            ]),
            StepSpec(name="QD drip", action=RecipeStep.Action.DRIP, params=[
                ParamSpec(key="volume", name="QD ink volume", nominal=150, min_value=100, max_value=200, unit="µL"),
                ParamSpec(key="speed", name="Spin speed", nominal=5000, unit="rpm"),
            ]),
        ])


@pytest.fixture
def lineage(project, user):
    """QD → INK → FILM → DEV (plus a sibling film from the same ink)."""
    qd = sample_create(kind="qd_batch", project=project, owner=user, name="Mn-CsPbI3 QDs")
    ink = sample_create(kind="qd_ink", project=project, owner=user, parents=[qd])
    film = sample_create(kind="film", project=project, owner=user, parents=[ink], status="waiting")
    dev = sample_create(kind="device", project=project, owner=user, parents=[film], name="LED A")
    return {"qd": qd, "ink": ink, "film": film, "dev": dev}


@pytest.fixture
def run_with_deviation(version, project, user, lineage):
    run = run_plan(version=version, project=project, operator=user, inputs=[lineage["ink"]])
    run_record_actuals(run, {"2.volume": (250, "µL"), "2.speed": (5000, "rpm"), "1.pbi2": (92.0, "mg")})
    run_complete(run, outputs=1)
    return run


@pytest.fixture
def device(lineage):
    dev = device_create(sample=lineage["dev"], stack_name="Stack A", layers=[
        LayerSpec(material="ITO", function="anode", nominal_thickness_nm=35),
        LayerSpec(material="LiF", function="EIL", nominal_thickness_nm=1),
        LayerSpec(material="Al", function="cathode", nominal_thickness_nm=90),
    ])
    sample = lineage["dev"]
    for name, eqe in (("A", 12.5), ("B", 17.9), ("C", 9.1)):
        pixel = dev.pixels.get(name=name)
        DerivedMetric.objects.create(name="eqe_max", value=eqe, unit="%", scope="pixel", sample=sample, device=dev,
                                     pixel=pixel, method="led", version="1")
    return dev


def make_file(sample, *, status=FileStatus.DONE, reason="", name="scan.csv", sha=None, pixel=None):
    sha = sha or (name.encode().hex() * 8)[:64]
    return MeasurementFile.objects.create(file=f"measurements/{sha}", sha256=sha, original_name=name, size_bytes=10,
                                          kind="jlv", sample=sample, pixel=pixel, status=status, failure_reason=reason)


def make_charted(sample, title="EQE marker chart"):
    """A current analysis with one stored chart (what the pipeline stores: measurements/analysis/charts.py)."""
    chart = {"name": "eqe_j", "title": title, "x": {"label": "current density", "unit": "mA/cm²", "log": True},
             "y": {"label": "EQE", "unit": "%", "log": False},
             "series": [{"label": "EQE", "x": [0.1, 1.0, 10.0], "y": [5.0, 12.0, 9.0], "style": "line"}]}
    return Analysis.objects.create(kind="pl", method="pl", version="1", sample=sample, result={"charts": [chart]})


def make_plot(sample, svg='<svg xmlns="http://www.w3.org/2000/svg"><text>EQE plot marker</text></svg>', superseded=False):
    analysis = Analysis.objects.create(kind="jlv", method="led", version="1", sample=sample, superseded=superseded)
    return Plot.objects.create(analysis=analysis, name=f"eqe-{analysis.pk}", title="EQE vs J", svg=svg, png=b"")
