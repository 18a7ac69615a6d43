"""Reads for the exchange formats: the samples, runs, files and metrics of an export, turned into
the plain ``ElnArchive`` the writer takes. Access is the caller's user through ``restrict``; an
export holds nothing its user could not open."""

from __future__ import annotations

import json
import mimetypes
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from core.access import restrict
from devices.models import Device
from measurements.models import DerivedMetric, MeasurementFile
from samples.models import ProcessRun, Project, RunValue, Sample, SampleParent

from .eln import LEDGER_RECORD, ElnArchive, ElnDataset, ElnFile, Person, Property, safe_name
from .models import PrintJob

RECORD_FORMAT = "ledger-sample/1"
# Text formats LEDger reads have no registered media type; their parser name says what they are.
TEXT_FORMAT = "text/plain"


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _person_id(user) -> str:
    return f"#person-{safe_name(user.get_username(), 'user')}"


def _person(user) -> Person:
    name = user.get_full_name() or user.get_username()
    return Person(id=_person_id(user), name=name, given_name=user.first_name, family_name=user.last_name, email=user.email)


def _url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def export_samples(samples: QuerySet, user, *, with_ancestors: bool = True) -> list[Sample]:
    """The visible samples to export, with their visible ancestors so lineage links resolve."""
    chosen = list(restrict(samples, user).order_by("created_at", "id"))
    ids = {s.pk for s in chosen}
    if with_ancestors:
        for s in chosen:
            ids.update(s.ancestors().values_list("pk", flat=True))
    return list(restrict(Sample.objects.filter(pk__in=ids), user)
                .select_related("owner", "project", "produced_by__recipe_version__recipe", "produced_by__operator")
                .order_by("created_at", "id"))


def _encoding_format(mf: MeasurementFile) -> str:
    guessed, _ = mimetypes.guess_type(mf.original_name)
    if guessed:
        return guessed
    return TEXT_FORMAT if mf.format else "application/octet-stream"


def _metric_property(m: DerivedMetric) -> Property:
    if m.pixel_id:
        where = f"pixel {m.pixel.label}"
    elif m.scope == "device":
        where = f"device, {m.get_aggregate_display().lower()}" + (f" of {m.n_pixels} pixels" if m.n_pixels else "")
    else:
        where = "sample"
    flags = f"; flags: {', '.join(map(str, m.flags))}" if m.flags else ""
    return Property(property_id=m.name, name=f"{m.name} ({where})", value=m.value, unit_text=m.unit,
                    description=f"{where}{flags}", measurement_technique=f"{m.method} {m.version}")


def _run_value_property(v: RunValue) -> Property:
    p = v.parameter
    value = v.actual_value if v.actual_value is not None else (v.actual_text or None)
    actual = value is not None
    if not actual:
        value = v.planned_nominal if v.planned_nominal is not None else (v.planned_text or None)
    planned = v.planned_display
    return Property(property_id=f"{p.step.order}.{p.key}", name=f"{p.step.name} · {p.name}", value=value,
                    unit_text=(v.actual_unit or v.unit) if actual and v.actual_value is not None else v.unit,
                    min_value=v.planned_min, max_value=v.planned_max,
                    description=(f"actual; planned {planned}" if actual else f"planned {planned} (no actual value logged)")
                    + (" — deviation" if v.is_deviation else ""))


def _sample_record(s: Sample, parents: list[SampleParent], device: Device | None, files: list[tuple[str, MeasurementFile]],
                   metrics: list[DerivedMetric]) -> dict:
    record = {
        "format": RECORD_FORMAT, "label": s.label, "kind": s.kind, "name": s.name, "status": s.status,
        "location": s.location, "amount": s.amount, "amount_unit": s.amount_unit, "notes": s.notes,
        "created_at": _iso(s.created_at), "owner": s.owner.get_username() if s.owner_id else None,
        "project": {"code": s.project.code, "name": s.project.name},
        "parents": [{"label": link.parent.label, "role": link.role} for link in parents],
        "produced_by": s.produced_by.label if s.produced_by_id else None,
        "device": None,
        "files": [{"path": path, "sha256": mf.sha256, "original_name": mf.original_name, "kind": mf.kind,
                   "format": mf.format, "pixel": mf.pixel.label if mf.pixel_id else None,
                   "instrument": None if not mf.instrument_id else {
                       "name": mf.instrument.name, "kind": mf.instrument.kind, "model": mf.instrument.model,
                       "xray_wavelength_a": mf.instrument.xray_wavelength_a, "settings": mf.instrument.settings},
                   "measured_at": _iso(mf.measured_at), "metadata": mf.metadata, "parameters": mf.parameters}
                  for path, mf in files],
        "metrics": [{"name": m.name, "value": m.value, "unit": m.unit, "scope": m.scope, "aggregate": m.aggregate,
                     "pixel": m.pixel.label if m.pixel_id else None, "method": m.method, "version": m.version,
                     "n_pixels": m.n_pixels, "flags": m.flags} for m in metrics],
    }
    if device is not None:
        record["device"] = {
            "stack_name": device.stack_name, "encapsulated": device.encapsulated,
            "layers": [{"order": la.order, "material": la.material, "function": la.function,
                        "nominal_thickness_nm": la.nominal_thickness_nm, "thickness_nm": la.thickness_nm,
                        "method": la.method, "source": la.source.label if la.source_id else None} for la in device.layers.all()],
            "pixels": [{"name": p.name, "label": p.label, "area_cm2": p.area_cm2, "notes": p.notes} for p in device.pixels.all()],
        }
    return record


def eln_archive(samples: Iterable[Sample], user, *, title: str, root: str, description: str = "") -> ElnArchive:
    """One dataset per sample and per run that made one, files with their bytes, metrics and recipe
    parameters as PropertyValues, lineage as isBasedOn links, and LEDger's own record per sample."""
    samples = list(samples)
    ids = [s.pk for s in samples]
    by_pk = {s.pk: s for s in samples}
    parents: dict[int, list[SampleParent]] = defaultdict(list)
    for link in SampleParent.objects.filter(child_id__in=ids, parent_id__in=ids).select_related("parent").order_by("id"):
        parents[link.child_id].append(link)
    devices = {d.sample_id: d for d in Device.objects.filter(sample_id__in=ids).prefetch_related("layers__source", "pixels")}
    files: dict[int, list[MeasurementFile]] = defaultdict(list)
    for mf in (MeasurementFile.objects.filter(sample_id__in=ids, hidden=False).select_related("pixel", "instrument", "uploaded_by")
               .order_by("created_at", "id")):
        files[mf.sample_id].append(mf)
    metrics: dict[int, list[DerivedMetric]] = defaultdict(list)
    for m in DerivedMetric.objects.current().filter(sample_id__in=ids).select_related("pixel").order_by("scope", "pixel__label", "name", "aggregate"):
        metrics[m.sample_id].append(m)
    run_ids = {s.produced_by_id for s in samples if s.produced_by_id}
    runs = list(ProcessRun.objects.filter(pk__in=run_ids).select_related("recipe_version__recipe", "operator")
                .prefetch_related(Prefetch("values", queryset=RunValue.objects.select_related("parameter__step")
                                           .order_by("parameter__step__order", "parameter__order", "pk")), "inputs")
                .order_by("created_at", "id"))

    people: dict[int, Person] = {}

    def author(u) -> list[str]:
        if u is None:
            return []
        people.setdefault(u.pk, _person(u))
        return [_person_id(u)]

    archive = ElnArchive(root=root, name=title, description=description, date_created=timezone.now().isoformat(),
                         publisher_url=settings.SITE_URL)
    for run in runs:
        conditions = [Property(f"ledger:{f}", label, getattr(run, f), unit) for f, label, unit in (
            ("glovebox_o2_ppm", "glovebox O₂", "ppm"), ("glovebox_h2o_ppm", "glovebox H₂O", "ppm"),
            ("temperature_c", "temperature", "°C"), ("humidity_percent", "relative humidity", "%"),
            ("batch_volume_ml", "batch volume", "mL")) if getattr(run, f) is not None]
        version = run.recipe_version
        archive.datasets.append(ElnDataset(
            path=f"{run.label}/", name=f"{run.label} · {version.recipe.name} v{version.number}", identifier=run.label,
            additional_type="ProcessRun", description=f"{run.get_status_display()} run of {version.recipe.name} v{version.number}",
            text=run.notes, date_created=_iso(run.started_at or run.created_at), date_modified=_iso(run.finished_at or run.updated_at),
            author_ids=author(run.operator), keywords=["LEDger", "process run", version.recipe.step_type],
            url=_url(run.get_absolute_url()), based_on=[f"{s.label}/" for s in run.inputs.all() if s.pk in by_pk],
            properties=conditions + [_run_value_property(v) for v in run.values.all()]))
    for s in samples:
        dataset_files, record_files, used = [], [], set()
        for mf in files.get(s.pk, []):
            with mf.file.open("rb") as fh:
                content = fh.read()
            name = safe_name(mf.original_name)
            stem, dot, ext = name.rpartition(".")
            n = 2
            while name.lower() in used:  # two files of one sample may share a name (one per pixel)
                name = f"{stem}-{n}.{ext}" if dot else f"{ext}-{n}"
                n += 1
            used.add(name.lower())
            path = f"{s.label}/{name}"
            target = mf.pixel.label if mf.pixel_id else s.label
            author(mf.uploaded_by)
            dataset_files.append(ElnFile(path=path, content=content, name=mf.original_name, encoding_format=_encoding_format(mf),
                                         description=f"{mf.get_kind_display()} of {target}" + (f", read as {mf.format}" if mf.format else ""),
                                         date_created=_iso(mf.measured_at or mf.created_at)))
            record_files.append((path, mf))
        record = _sample_record(s, parents.get(s.pk, []), devices.get(s.pk), record_files, metrics.get(s.pk, []))
        dataset_files.append(ElnFile(path=f"{s.label}/{LEDGER_RECORD}", name=LEDGER_RECORD, encoding_format="application/json",
                                     content=json.dumps(record, indent=1, ensure_ascii=False, default=str).encode("utf-8"),
                                     description="LEDger's record of the sample (what an import into LEDger reads)"))
        props = [Property("ledger:kind", "kind", s.get_kind_display(), description=s.kind),
                 Property("ledger:status", "status", s.get_status_display(), description=s.status)]
        if s.location:
            props.append(Property("ledger:location", "location", s.location))
        if s.amount is not None:
            props.append(Property("ledger:amount", "amount left", s.amount, s.amount_unit))
        props += [Property(f"ledger:parent_role:{link.parent.label}", f"role of {link.parent.label}", link.role)
                  for link in parents.get(s.pk, []) if link.role]
        props += [_metric_property(m) for m in metrics.get(s.pk, [])]
        archive.datasets.append(ElnDataset(
            path=f"{s.label}/", name=f"{s.label} · {s.name}" if s.name else s.label, identifier=s.label, additional_type="Sample",
            description=f"{s.get_kind_display()} in project {s.project.name}", text=s.notes, date_created=_iso(s.created_at),
            date_modified=_iso(s.updated_at), author_ids=author(s.owner), keywords=["LEDger", s.get_kind_display()],
            url=_url(s.get_absolute_url()),
            based_on=[f"{link.parent.label}/" for link in parents.get(s.pk, [])]
            + ([f"{s.produced_by.label}/"] if s.produced_by_id else []),
            properties=props, files=dataset_files))
    archive.people = list(people.values())
    return archive


def project_archive(project: Project, user) -> ElnArchive:
    samples = export_samples(Sample.objects.filter(project=project), user)
    stamp = timezone.now().strftime("%Y-%m-%d")
    return eln_archive(samples, user, title=f"{project.name} (LEDger export)", root=f"ledger-{project.code}-{stamp}",
                       description=project.description)


def samples_archive(samples: QuerySet, user) -> ElnArchive:
    chosen = list(restrict(samples, user).order_by("label"))
    exported = export_samples(samples, user)
    labels = [s.label for s in chosen]
    head = labels[0] if len(labels) == 1 else f"{len(labels)} samples"
    stamp = timezone.now().strftime("%Y-%m-%d")
    return eln_archive(exported, user, title=f"{head} with lineage (LEDger export)",
                       root=f"ledger-{safe_name(labels[0]) if len(labels) == 1 else 'samples'}-{stamp}",
                       description="Samples " + ", ".join(labels) + " and the samples they were made from.")


def visible_print_jobs(user) -> QuerySet:
    """Print jobs of the samples and runs the user may see."""
    samples = restrict(Sample.objects.all(), user)
    runs = restrict(ProcessRun.objects.all(), user)
    return PrintJob.objects.filter(Q(sample__in=samples) | Q(run__in=runs)).select_related("printer", "sample", "run")
