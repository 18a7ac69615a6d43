"""Reads behind the PeLED table: each device's stack, lineage, the matrix precursor's composition
from the stoichiometry engine, the emissive layer's run, and its current metrics, as plain
``DeviceFacts`` for ``exchange.peled.build_row``."""

from __future__ import annotations

import io
from collections import defaultdict

import pandas as pd
from django.db.models import QuerySet

from core.access import restrict
from devices.models import Device
from measurements.models import Aggregate, DerivedMetric, MetricScope
from recipes.stoichiometry import library_from_db
from samples.models import Sample, SampleKind
from samples.stoichiometry import run_composition

from .peled import COLUMNS, DeviceFacts, LayerFacts, StepFacts, build_row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HERO_METRICS = ("eqe_max", "j_at_eqe_max", "eqe_at_100_ma_cm2", "luminance_max", "turn_on_voltage",
                "current_efficiency_max", "power_efficacy_max", "el_peak_wavelength", "el_fwhm", "cie_x", "cie_y")


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _run_steps(run) -> list[StepFacts]:
    steps: dict[int, StepFacts] = {}
    for v in run.values.select_related("parameter__step").order_by("parameter__step__order", "parameter__order", "pk"):
        step = steps.setdefault(v.parameter.step.order, StepFacts(action=v.parameter.step.action))
        if v.actual_value is not None:
            step.values[v.parameter.key] = (v.actual_value, v.actual_unit or v.unit)
        elif v.planned_nominal is not None:
            step.values[v.parameter.key] = (v.planned_nominal, v.unit)
    return [steps[k] for k in sorted(steps)]


def _metrics(sample_ids: set[int]) -> dict[int, list[DerivedMetric]]:
    out: dict[int, list[DerivedMetric]] = defaultdict(list)
    for m in DerivedMetric.objects.current().filter(sample_id__in=sample_ids).select_related("pixel"):
        out[m.sample_id].append(m)
    return out


def device_facts(device: Device, user, library=None) -> DeviceFacts:
    sample = device.sample
    lineage = list(restrict(sample.ancestors(), user).select_related("produced_by__recipe_version__recipe"))
    layers = list(device.layers.select_related("run", "source").order_by("order"))
    run = sample.produced_by
    facts = DeviceFacts(
        label=sample.label, entered_by=_person(run.operator if run and run.operator_id else sample.owner),
        reference=device.architecture.recipe.reference if device.architecture_id else "",
        layers=[LayerFacts(la.material, la.function, la.display_thickness_nm, la.method) for la in layers],
        pixel_area_cm2=(device.pixels.first().area_cm2 if device.pixels.exists() else None), pixel_count=device.pixels.count(),
        encapsulated=device.encapsulated, has_qds=any(s.kind == SampleKind.QD_BATCH for s in lineage))
    precursors = [s for s in lineage if s.kind == SampleKind.PRECURSOR and s.produced_by_id]
    if precursors:
        pre = min(precursors, key=lambda s: s.created_at)
        result = run_composition(pre.produced_by, library=library)
        if result and result.get("composition") and not result.get("error"):
            version = pre.produced_by.recipe_version
            facts.composition = result["composition"]
            facts.composition_source = f"{pre.label}, nominal amounts of {version.recipe.name} v{version.number}"
            facts.composition_weighed_formula = (result.get("actual_composition") or {}).get("formula", "")
            facts.solvents = [row["name"] for row in result.get("solvents", [])]
    eml = next((la for la in layers if la.function == "EML"), None)
    if eml is not None and eml.run_id:
        facts.eml_steps = _run_steps(eml.run)
        dripped = [s for s in eml.run.inputs.all() if s.kind == SampleKind.QD_INK]
        facts.quenching_media = "; ".join(f"QD ink {s.label}" for s in dripped) or "Antisolvent"
    eml_ids = {eml.source_id} if eml is not None and eml.source_id else set()
    if eml is not None and eml.source_id:
        eml_ids |= set(restrict(eml.source.ancestors(), user).values_list("pk", flat=True))
    metrics = _metrics(eml_ids | {sample.pk})
    for sid in eml_ids:
        for m in metrics.get(sid, []):
            if m.name == "optical_gap" and facts.band_gap_ev is None:
                facts.band_gap_ev, facts.band_gap_basis = m.value, "Absorption Tauc-plot"
            if m.name == "pl_peak_wavelength" and facts.pl_max_nm is None:
                facts.pl_max_nm = m.value
    own = metrics.get(sample.pk, [])
    by_pixel: dict[str, dict[str, float]] = defaultdict(dict)
    for m in own:
        if m.scope == MetricScope.PIXEL and m.pixel_id:
            by_pixel[m.pixel.label][m.name] = m.value
    with_eqe = {p: v for p, v in by_pixel.items() if "eqe_max" in v}
    if with_eqe:
        hero = max(with_eqe, key=lambda p: with_eqe[p]["eqe_max"])
        facts.hero_pixel, facts.pixels_measured = hero, len(with_eqe)
        facts.hero = {k: with_eqe[hero][k] for k in HERO_METRICS if k in with_eqe[hero]}
    with_t50 = {p: v for p, v in by_pixel.items() if "t50" in v}
    if with_t50:
        best = max(with_t50, key=lambda p: with_t50[p]["t50"])
        facts.stability_pixel = best
        facts.stability = {k: with_t50[best][k] for k in ("t50", "initial_luminance") if k in with_t50[best]}
    for m in own:
        if m.scope == MetricScope.DEVICE and m.aggregate == Aggregate.VALUE and m.name in ("lifetime_acceleration_n", "t50_at_100_cd"):
            facts.stability[m.name] = m.value
    return facts


def peled_table(devices: QuerySet, user) -> pd.DataFrame:
    devices = restrict(devices, user).select_related("sample__owner", "sample__produced_by__operator", "architecture__recipe")
    library = library_from_db()
    rows = [build_row(device_facts(d, user, library)) for d in devices.order_by("sample__label")]
    return pd.DataFrame(rows, columns=[c.name for c in COLUMNS])


def peled_devices_for(user, *, project: str | None = None, labels: list[str] | None = None) -> QuerySet:
    qs = Device.objects.all()
    if project:
        qs = qs.filter(sample__project__code=project)
    if labels:
        qs = qs.filter(sample__label__in=labels)
    return restrict(qs, user)


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def to_xlsx(frame: pd.DataFrame) -> bytes:
    from .peled.columns import COLUMNS as cols

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="devices")
        pd.DataFrame([{"column": c.name, "unit": c.unit, "description": c.description} for c in cols]).to_excel(
            writer, index=False, sheet_name="columns")
    return buffer.getvalue()


__all__ = ["Sample", "device_facts", "peled_devices_for", "peled_table", "to_csv", "to_xlsx"]
