"""Issue 14: the metrics export names what made each row (run, recipe, version) and when it was
measured, and one physical parameter is one column across device stacks: TPBi thickness is step 6
of stack A and step 5 of stack B, one column "Device stack · TPBi · thickness [nm]"."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from devices.services import LayerSpec, device_create
from measurements.models import Aggregate, Analysis, DerivedMetric, MeasurementFile, MetricScope
from recipes.models import StepType
from recipes.services import ParamSpec, StepSpec, recipe_create
from samples.models import SampleKind
from samples.services import run_complete, run_plan, run_record_actuals

from . import factories as f

pytestmark = pytest.mark.django_db


def _stack(name, layers):
    return recipe_create(name=name, step_type=StepType.DEVICE_ARCHITECTURE, output_kind=SampleKind.DEVICE, steps=[
        StepSpec(material, "layer", params=[ParamSpec(key="thickness", name="Thickness", nominal=t, unit="nm")])
        for material, t in layers])


def _device(project, user, version, actuals, eqe, measured_at=None):
    run = run_plan(version=version, project=project, operator=user)
    run_record_actuals(run, actuals)
    (sample,) = run_complete(run, owner=user)
    dev = device_create(sample=sample, layers=[LayerSpec("ITO", "anode", 35)], pixel_area_cm2=0.09, stack_name="S")
    analysis = Analysis.objects.create(kind="jlv", method="test", version="1", sample=sample)
    for n, when in enumerate([measured_at - dt.timedelta(hours=1), measured_at] if measured_at else [None]):
        analysis.sources.add(MeasurementFile.objects.create(
            file=f"m/{sample.pk}{n}", sha256=f"{sample.pk:032d}{n:032d}", original_name="s.csv", size_bytes=1,
            kind="jlv", sample=sample, measured_at=when))
    DerivedMetric.objects.create(name="eqe_max", value=eqe, unit="%", sample=sample, device=dev, pixel=dev.pixels.get(name="A"),
                                 scope=MetricScope.PIXEL, aggregate=Aggregate.VALUE, method="test", version="1",
                                 analysis=analysis)
    return run, dev


def test_stacks_share_a_column_per_layer_and_rows_name_run_version_and_measured_at(client_for):
    project, user = f.project("alpha"), None
    user = f.user("alice", projects=[project])
    stack_a = _stack("Stack A", [("ITO", 35), ("LiF", 2.5), ("TPBi", 35), ("LiF", 1), ("Al", 90)])
    stack_b = _stack("Stack B", [("ITO", 35), ("TPBi", 35), ("LiF", 1), ("Al", 90)])
    when = timezone.make_aware(dt.datetime(2026, 3, 4, 10, 30))
    run_a, dev_a = _device(project, user, stack_a, {"3.thickness": (40, "nm")}, 12.5, measured_at=when)
    run_b, dev_b = _device(project, user, stack_b, {"2.thickness": (30, "nm")}, 9.0)

    body = b"".join(client_for(user).get("/api/v1/metrics/export/?format=csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    header = list(rows[0])
    assert header[:13] == ["target", "scope", "sample", "device", "pixel", "project", "sample_name", "flags", "warnings",
                           "run", "recipe", "recipe_version", "measured_at"]
    tpbi = "Device stack · TPBi · thickness [nm]"
    assert tpbi in header and not any(c.startswith(("Stack A · 3.", "Stack B · 2.")) for c in header)
    # Layers named once per stack share a column; stack A's two LiF cannot be told apart by name and
    # keep their recipe's columns, while stack B's single LiF has the shared one.
    assert {"Stack A · 2.thickness [nm]", "Stack A · 4.thickness [nm]", "Device stack · LiF · thickness [nm]",
            "Device stack · Al · thickness [nm]"} <= set(header)
    by_target = {r["target"]: r for r in rows}
    a, b = by_target[dev_a.pixels.get(name="A").label], by_target[dev_b.pixels.get(name="A").label]
    assert (a[tpbi], b[tpbi]) == ("40.0", "30.0")  # logged actuals
    assert (a["run"], a["recipe"], a["recipe_version"]) == (run_a.label, "Stack A", "1")
    assert b["run"] == run_b.label and b["recipe"] == "Stack B"
    assert a["measured_at"] == when.isoformat()  # the newest of the analysis' files
    assert b["measured_at"] == ""  # its file says nothing: blank, not the upload time
    assert a["Stack A · 2.thickness [nm]"] == "2.5" and b["Device stack · LiF · thickness [nm]"] == "1.0"
