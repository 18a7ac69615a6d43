"""Writes for the exchange app: importing an .eln archive, and queueing/sending label print jobs.

An import goes through the same services as the web forms and the API: samples with their
lineage, devices with their pixels, and every file through ``measurement_file_ingest`` (stored by
sha256, sniffed and analysed like an upload), so metrics are recomputed, never copied in.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.models import LabelCounter
from devices.models import Pixel
from devices.services import LayerSpec, device_create
from measurements.models import Instrument, MeasurementKind
from measurements.services import IngestError, measurement_file_ingest
from samples.models import LABEL_PREFIX, ProcessRun, Project, Sample, SampleKind, SampleStatus
from samples.services import sample_add_parent, sample_create

from .eln import LEDGER_RECORD, ElnArchive, ElnDataset, ElnError, ElnFile, Limits, read_eln
from .models import Printer, PrintJob, PrintJobStatus
from .selectors import RECORD_FORMAT


class ImportRefused(ValueError):
    """Nothing was imported; the message says why."""


@dataclass
class ImportResult:
    samples: list[Sample] = field(default_factory=list)
    files: int = 0
    warnings: list[str] = field(default_factory=list)
    source: str = ""  # "LEDger" or the other ELN's name


# --- helpers -----------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_LABEL = re.compile(r"^([A-Z]+)-(\d+)$")


def _plain(text: str) -> str:
    """HTML from an ELN's rich-text body as readable plain text."""
    text = re.sub(r"<\s*(br|/p|/h\d|/li)\s*/?>", "\n", text or "", flags=re.I)
    return re.sub(r"\n{3,}", "\n\n", html.unescape(_TAG.sub("", text))).strip()


def _when(text: str) -> datetime | None:
    if not text:
        return None
    value = parse_datetime(text.replace(" ", "T", 1) if "T" not in text else text)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value


def _project(code: str, user) -> Project:
    project, created = Project.objects.get_or_create(code=code, defaults={"name": code})
    if user is not None and not user.is_superuser and not project.members.filter(pk=user.pk).exists():
        if not created:
            raise ImportRefused(f"you are not a member of project {code!r}")
    if created and user is not None:
        project.members.add(user)
    return project


def _keep_label(label: str, kind: str) -> str | None:
    """The exported label when it is free and fits the kind's prefix; the counter moves past it."""
    m = _LABEL.match(label or "")
    if not m or m.group(1) != LABEL_PREFIX.get(kind) or Sample.objects.filter(label=label).exists():
        return None
    counter, _ = LabelCounter.objects.select_for_update().get_or_create(prefix=m.group(1))
    if counter.last < int(m.group(2)):
        counter.last = int(m.group(2))
        counter.save(update_fields=["last"])
    return label


def _ingest(result: ImportResult, f: ElnFile, *, sample: Sample, user, pixel: Pixel | None = None, kind: str | None = None,
            instrument: Instrument | None = None, measured_at=None, metadata=None, parameters=None, name: str = "") -> None:
    filename = name or f.name
    try:
        measurement_file_ingest(content=f.content, filename=filename, sample=sample, pixel=pixel, kind=kind, instrument=instrument,
                                user=user, measured_at=measured_at, metadata=metadata, parameters=parameters)
    except IngestError as exc:
        if exc.code == "unsupported_media" and kind is None:
            # Not a format LEDger analyses: keep it as an attachment.
            measurement_file_ingest(content=f.content, filename=filename, sample=sample, kind=MeasurementKind.OTHER, user=user,
                                    measured_at=measured_at, metadata=metadata)
        else:
            result.warnings.append(f"{f.path}: not attached ({exc})")
            return
    result.files += 1


# --- LEDger's own archives ---------------------------------------------------------------------

def _instrument(spec: dict | None) -> Instrument | None:
    if not spec or not spec.get("name"):
        return None
    instrument, _ = Instrument.objects.get_or_create(name=spec["name"][:120], defaults={
        "kind": spec.get("kind") or "", "model": (spec.get("model") or "")[:120],
        "xray_wavelength_a": spec.get("xray_wavelength_a"), "settings": spec.get("settings") or {}})
    return instrument


def _records(archive: ElnArchive) -> list[tuple[ElnDataset, dict]]:
    out = []
    for d in archive.datasets:
        sidecar = next((f for f in d.files if f.name == LEDGER_RECORD), None)
        if sidecar is None:
            continue
        try:
            record = json.loads(sidecar.content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportRefused(f"{sidecar.path} is not valid JSON ({exc})") from None
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            raise ImportRefused(f"{sidecar.path} is not a {RECORD_FORMAT} record")
        if record.get("kind") not in SampleKind.values:
            raise ImportRefused(f"{sidecar.path}: unknown sample kind {record.get('kind')!r}")
        out.append((d, record))
    return out


def _import_ledger(archive: ElnArchive, project: Project, user, result: ImportResult) -> None:
    records = _records(archive)
    by_label = {r["label"]: r for _, r in records}
    done: dict[str, Sample] = {}

    def order(label: str, seen: tuple = ()) -> list[str]:
        if label in seen:
            raise ImportRefused(f"the lineage in the archive has a cycle through {label}")
        parents = [p["label"] for p in by_label[label].get("parents", []) if p.get("label") in by_label]
        out = []
        for parent in parents:
            out += order(parent, (*seen, label))
        return [*out, label]

    sequence: list[str] = []
    for label in by_label:
        for item in order(label):
            if item not in sequence:
                sequence.append(item)
    datasets = {r["label"]: d for d, r in records}
    for label in sequence:
        r = by_label[label]
        kept = _keep_label(label, r["kind"])
        notes = r.get("notes") or ""
        if r.get("produced_by"):
            notes = (notes + "\n\n" if notes else "") + (
                f"Imported from an .eln archive: made by run {r['produced_by']} in the exporting LEDger "
                "(the run's parameters are in the archive's dataset of that run).")
        sample = Sample(label=kept or "", kind=r["kind"], name=(r.get("name") or "")[:200], project=project, owner=user,
                        status=r.get("status") if r.get("status") in SampleStatus.values else SampleStatus.ACTIVE,
                        location=(r.get("location") or "")[:120], amount=r.get("amount"), amount_unit=r.get("amount_unit") or "",
                        notes=notes)
        if kept is None:
            from samples.services import sample_label_for

            sample.label = sample_label_for(r["kind"])
            result.warnings.append(f"{label} exists here already; imported as {sample.label}")
        try:
            sample.full_clean()
        except ValidationError as exc:
            raise ImportRefused(f"{label}: {'; '.join(exc.messages)}") from None
        sample.save()
        for link in r.get("parents", []):
            if link.get("label") in done:
                sample_add_parent(sample, done[link["label"]], (link.get("role") or "")[:64])
        pixels: dict[str, Pixel] = {}
        if r.get("device"):
            dev = r["device"]
            pixel_specs = dev.get("pixels") or []
            areas = {p["name"]: p["area_cm2"] for p in pixel_specs}
            device = device_create(
                sample=sample, stack_name=(dev.get("stack_name") or "")[:64],
                layers=[LayerSpec(material=la["material"], function=la.get("function") or "",
                                  nominal_thickness_nm=la.get("nominal_thickness_nm"), thickness_nm=la.get("thickness_nm"),
                                  method=la.get("method") or "", source=done.get(la.get("source")))
                        for la in sorted(dev.get("layers") or [], key=lambda la: la.get("order", 0))],
                pixel_names=[p["name"] for p in pixel_specs], pixel_area_cm2=next(iter(areas.values()), 0.09))
            if dev.get("encapsulated"):
                device.encapsulated = True
                device.save(update_fields=["encapsulated"])
            for pixel in device.pixels.all():
                if areas.get(pixel.name) not in (None, pixel.area_cm2):
                    pixel.area_cm2 = areas[pixel.name]
                    pixel.save(update_fields=["area_cm2"])
                pixels[f"{label}-{pixel.name}"] = pixel
        files = {f.path: f for f in datasets[label].files}
        for spec in r.get("files", []):
            f = files.get(spec.get("path"))
            if f is None:
                result.warnings.append(f"{label}: {spec.get('original_name')} is missing from the archive; not imported")
                continue
            if f.sha256 != spec.get("sha256"):
                result.warnings.append(f"{label}: {spec.get('original_name')} does not match its recorded sha256; not imported")
                continue
            _ingest(result, f, sample=sample, user=user, pixel=pixels.get(spec.get("pixel") or ""), kind=spec.get("kind"),
                    instrument=_instrument(spec.get("instrument")), measured_at=_when(spec.get("measured_at") or ""),
                    metadata=spec.get("metadata") or {}, parameters=spec.get("parameters") or {},
                    name=spec.get("original_name") or f.name)
        done[label] = sample
        result.samples.append(sample)


# --- other ELNs' archives ----------------------------------------------------------------------

def _foreign_notes(d: ElnDataset, archive: ElnArchive) -> str:
    people = {p.id: p.name for p in archive.people}
    lines = [f"Imported from an .eln archive by {archive.publisher}: {d.path}"]
    for label, value in (("identifier", d.identifier), ("type", d.additional_type), ("url", d.url),
                         ("created", d.date_created), ("modified", d.date_modified)):
        if value:
            lines.append(f"{label}: {value}")
    authors = [people.get(a, a) for a in d.author_ids]
    if authors:
        lines.append("author: " + ", ".join(authors))
    if d.keywords:
        lines.append("keywords: " + ", ".join(d.keywords))
    for p in d.properties:
        unit = f" {p.unit_text}" if p.unit_text else ""
        lines.append(f"{p.name or p.property_id}: {p.value}{unit}")
    body = "\n\n".join(t for t in (_plain(d.description), _plain(d.text)) if t)
    return "\n".join(lines) + (f"\n\n{body}" if body else "")


def _import_foreign(archive: ElnArchive, project: Project, user, result: ImportResult) -> None:
    datasets = list(archive.datasets)
    if archive.loose_files:
        datasets.append(ElnDataset(path="./", name=archive.name or "files at the archive's root", files=archive.loose_files))
    if not datasets:
        raise ImportRefused(f"the archive from {archive.publisher} lists no dataset and no file: nothing to import")
    for d in datasets:
        sample = sample_create(kind=SampleKind.OTHER, project=project, owner=user, name=d.name[:200],
                               notes=_foreign_notes(d, archive)[:50_000])
        result.samples.append(sample)
        for f in d.files:
            _ingest(result, f, sample=sample, user=user, name=f.name,
                    metadata={"eln": {"path": f.path, "encodingFormat": f.encoding_format, "description": f.description,
                                      "source": archive.publisher}})
        if d.node:
            # The dataset's own JSON-LD node, so nothing the other ELN said is lost.
            node = ElnFile(path=f"{d.path}eln-metadata.json", name="eln-metadata.json",
                           content=json.dumps(d.node, indent=1, ensure_ascii=False).encode("utf-8"))
            _ingest(result, node, sample=sample, user=user, kind=MeasurementKind.OTHER)


@transaction.atomic
def eln_import(content: bytes, *, project_code: str, user=None) -> ImportResult:
    """Import an .eln archive into ``project_code`` (created if missing). All or nothing."""
    try:
        # One file of the archive may be as large as one upload may be.
        archive = read_eln(content, limits=Limits(max_member_bytes=settings.LEDGER_MAX_UPLOAD_BYTES))
    except ElnError as exc:
        raise ImportRefused(str(exc)) from None
    project = _project(project_code, user)
    result = ImportResult(warnings=list(archive.warnings), source=archive.publisher)
    if archive.is_ledger:
        _import_ledger(archive, project, user, result)
    else:
        _import_foreign(archive, project, user, result)
    return result


# --- label printing ----------------------------------------------------------------------------

def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def sample_label_content(sample: Sample) -> tuple[str, str, list[str]]:
    """Title, QR URL and small lines of a sample's vial label (as the PDF labels print it)."""
    facts = " · ".join(x for x in (sample.get_kind_display(), sample.created_at.date().isoformat() if sample.created_at else "") if x)
    return sample.label, f"{settings.SITE_URL}{sample.get_absolute_url()}", [facts, sample.name or _who(sample.owner)]


def run_label_content(run: ProcessRun) -> tuple[str, str, list[str]]:
    when = run.planned_date or (run.created_at.date() if run.created_at else None)
    return run.label, f"{settings.SITE_URL}{run.get_absolute_url()}", [
        run.recipe_version.recipe.name, " · ".join(x for x in (when.isoformat() if when else "", _who(run.operator)) if x)]


def print_label(*, printer: Printer, sample: Sample | None = None, run: ProcessRun | None = None, user=None) -> PrintJob:
    """Queue the label of a sample or a run on ``printer``; the Celery task sends it on commit."""
    if (sample is None) == (run is None):
        raise ValidationError("Print the label of one sample or one run.")
    title, url, lines = sample_label_content(sample) if sample is not None else run_label_content(run)
    return print_job_create(printer=printer, title=title, url=url, lines=lines, sample=sample, run=run, user=user)


def print_job_create(*, printer: Printer, title: str, url: str, lines=(), sample=None, run=None, user=None) -> PrintJob:
    if not printer.enabled:
        raise ValidationError({"printer": f"{printer} is disabled."})
    job = PrintJob.objects.create(printer=printer, title=title[:64], url=url[:300], lines=[str(x)[:120] for x in lines if x],
                                  sample=sample, run=run, requested_by=user)
    # By name, so services never import tasks (ExchangeConfig.ready registers the task in every process).
    from celery import current_app

    task = current_app.tasks["exchange.tasks.send_print_job"]
    transaction.on_commit(lambda: task.delay(job.pk))
    return job


def print_job_payload(job: PrintJob) -> bytes:
    from .printers.brother import brother_job
    from .printers.label import LabelContent
    from .printers.zpl import zpl_job

    content = LabelContent(job.title, job.url, tuple(job.lines))
    printer = job.printer
    if printer.kind == "brother_ql":
        return brother_job(content, model=printer.model, label=printer.label)
    return zpl_job(content, width_mm=printer.width_mm, height_mm=printer.height_mm, dpi=printer.dpi)


def print_job_send(job_id: int, *, timeout_s: float = 10.0) -> PrintJob:
    """Render and send one queued job; ``sent`` or ``failed`` with the reason. A job already sent
    is not sent again (a redelivered task must not print a second label)."""
    from .printers.brother import BrotherError
    from .printers.transport import PrinterUnreachable, send_tcp
    from .printers.zpl import ZplError

    claimed = PrintJob.objects.filter(pk=job_id, status=PrintJobStatus.QUEUED).update(attempts=F("attempts") + 1)
    job = PrintJob.objects.select_related("printer").get(pk=job_id)
    if not claimed:
        return job
    try:
        payload = print_job_payload(job)
        job.bytes_sent = send_tcp(job.printer.host, job.printer.port, payload, timeout_s=timeout_s)
    except (PrinterUnreachable, BrotherError, ZplError, ValueError) as exc:
        job.status, job.failure_reason = PrintJobStatus.FAILED, str(exc)[:2000]
    else:
        job.status, job.failure_reason, job.sent_at = PrintJobStatus.SENT, "", timezone.now()
    job.save(update_fields=["status", "failure_reason", "bytes_sent", "sent_at", "updated_at"])
    return job

