"""Writes for measurement files: ingest (store once by sha256, queue) and process (claim, parse,
analyse, store versioned metrics and the figures' curves, set a terminal status).

The Celery task in ``tasks.py`` only calls ``measurement_file_process``; views, the API, the
CLI and load_demo only call ``measurement_file_ingest`` / ``measurement_file_reanalyze``.

What is guaranteed (README "Pipeline"):
- at-least-once analysis: a committed ``queued`` file is sent to the broker on commit, and the
  periodic sweep (``sweep_files``) sends again every queued file whose message never left (broker
  down) or is long overdue, and puts back every claim whose worker died, up to
  ``LEDGER_MAX_ATTEMPTS``; then the file is failed with the reason.
- exactly one current analysis per target, kind and subject: superseding and inserting happen in
  one transaction under a lock on the target's sample row, and partial unique indexes on the
  current rows make a duplicate impossible. A result identical to the current one (the J-L-V/EL
  pair seen from both files) is stored once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import statistics
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q, prefetch_related_objects
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from core import events
from core.access import can_see, restrict
from core.errors import DomainError
from devices.models import Pixel
from devices.selectors import pixel_for_filename
from samples.models import Sample, SampleKind
from samples.services import runs_mark_measured

from .analysis.base import AnalysisError, AnalysisResult, jsonable
from .analysis.charts import charts_for, overlays
from .analysis.plotting import render_chart
from .analysis.registry import get_spec, parse_inputs, resolve_params, run_parsed
from .lifetime_runs import label_runs, stored_runs
from .models import (
    Aggregate,
    Analysis,
    Calibration,
    CalibrationRole,
    DerivedMetric,
    FileStatus,
    Instrument,
    MeasurementFile,
    MeasurementKind,
    MetricScope,
    Plot,
)
from .parsers import ParsedData, ParseError, UnknownFormat, parse_bytes

log = logging.getLogger(__name__)

# Metrics where a lower value is better (the device roll-up's "best" takes the minimum).
LOWER_IS_BETTER = {"turn_on_voltage"}
# Descriptive metrics: a "best" pixel makes no sense, only the median is rolled up.
DESCRIPTIVE = {"el_peak_wavelength", "el_fwhm", "cie_x", "cie_y", "initial_luminance", "pl_peak_wavelength",
               "pl_peak_energy", "pl_fwhm", "j_at_eqe_max", "pl_band_count"}
# The kind an upload gets from its parsed shape when the uploader named none (spectra: guess_kind).
SHAPE_TO_KIND = {"jlv": "jlv", "lifetime": "lifetime", "decay": "trpl", "xrd": "xrd", "ta_matrix": "ta",
                 "absorbance": "absorbance", "jv": "jlv"}
NO_ANALYSIS = (MeasurementKind.IMAGE, MeasurementKind.OTHER)

# PNG, JPEG, TIFF (both byte orders), GIF
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"GIF8")


class IngestError(DomainError):
    """Refused upload; ``code`` lets the API pick the HTTP status."""

    def __init__(self, message: str, code: str = "invalid", field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field


@dataclass
class IngestResult:
    file: MeasurementFile
    created: bool
    calibrations: list[Calibration] = field(default_factory=list)  # of a created file: the ones set on it


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- kind guessing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class KindGuess:
    """The kind given to an upload that named none, and how sure the evidence makes it.

    ``confident`` guesses come from the content itself (a parser that reads only that kind, header
    words, the y unit, the parser's ``kind_hint``) or from the target (a spectrum on a pixel is
    its EL). A guess that is not confident is analysed, but never replaces existing metrics."""

    kind: str
    confident: bool
    evidence: str


# Words in a spectrum's metadata or column names that say it is not an emission spectrum.
# A parser's PL hint at least this sure (a PL-only format, "emission" scan words) makes a PL guess
# confident; a bare two-column spectrum (≈ 0.2–0.5) stays a guess that never replaces metrics.
PL_HINT_CONFIDENT = 0.6
NOT_EMISSION_WORDS = ("transmi", "%t", "absorb", "reflect", "raman", "cm-1", "cm^-1", "1/cm", "cm⁻¹")


def _spectrum_text(parsed: ParsedData) -> str:
    meta = parsed.metadata or {}
    bits = [str(c) for c in parsed.data.columns]
    bits += [str(meta.get(k, "")) for k in ("x_unit", "y_unit", "y_units", "x_label", "y_label", "y_source", "title")]
    return " ".join(bits).lower()


def guess_kind(parsed: ParsedData, *, pixel: Pixel | None, sample: Sample) -> KindGuess:
    """Kind from the parsed content and the target (issue 11 "kind guessing").

    The parser's ``metadata["kind_hint"]`` (``measurements.parsers.base.kind_hint``: kinds best
    first, a confidence, the evidence words) says what the content is; the target only decides
    between PL and EL for an emission spectrum. A hint with no kinds means no LEDger analysis fits
    (Raman, transmission …): the file is stored as ``other`` with the parser's reason."""
    hint = (parsed.metadata or {}).get("kind_hint") or {}
    kinds = [k for k in hint.get("kinds", []) if k in MeasurementKind.values]
    confidence = float(hint.get("confidence") or 0.0)
    evidence = "; ".join(str(e) for e in hint.get("evidence", []) if e) or f"read by {parsed.format} as {parsed.shape}"
    on_device = pixel is not None or sample.kind == SampleKind.DEVICE
    if hint and not hint.get("kinds"):
        reason = hint.get("reason") or "the content is nothing LEDger analyses"
        return KindGuess(MeasurementKind.OTHER, True, f"{reason} ({evidence}); give its kind to analyse it")
    if parsed.shape != "spectrum":
        kind = kinds[0] if kinds else SHAPE_TO_KIND.get(parsed.shape)
        if kind is None:
            return KindGuess(MeasurementKind.OTHER, True, f"a {parsed.shape} file: give its kind to analyse it")
        return KindGuess(kind, True, evidence)
    if kinds and kinds[0] not in (MeasurementKind.PL, MeasurementKind.EL):
        return KindGuess(kinds[0], True, evidence)  # e.g. a spectrum the parser knows as absorbance
    if any(word in _spectrum_text(parsed) for word in NOT_EMISSION_WORDS):
        return KindGuess(MeasurementKind.OTHER, True,
                         f"a {parsed.format} spectrum whose axes say transmission, absorbance or Raman, not emission "
                         f"({evidence}); give its kind (absorbance) to analyse it")
    if on_device:
        # The emission of a device is its EL, whatever the header calls it.
        return KindGuess(MeasurementKind.EL, True, f"a spectrum uploaded to device {pixel.label if pixel else sample.label}")
    if kinds and kinds[0] == MeasurementKind.PL and confidence >= PL_HINT_CONFIDENT:
        return KindGuess(MeasurementKind.PL, True, evidence)
    return KindGuess(MeasurementKind.PL, False,
                     f"a spectrum on {sample.label} with no header word saying PL: guessed PL from the shape only")


def _kind_of_claimed(exc: ParseError, *, pixel: Pixel | None, sample: Sample) -> str:
    """The kind of a file whose reader recognised it and then failed: that reader's shape (a
    J-L-V sweep, a decay …), an emission spectrum on a device its EL; else ``other``."""
    shape = getattr(exc, "shape", None)
    if shape in SHAPE_TO_KIND:
        return SHAPE_TO_KIND[shape]
    if shape == "spectrum" and (pixel is not None or sample.kind == SampleKind.DEVICE):
        return MeasurementKind.EL
    return MeasurementKind.OTHER


# Kinds whose analysis needs a pixel (its area): a J-L-V + EL pair dropped on a device page.
PIXEL_KINDS = (MeasurementKind.JLV, MeasurementKind.EL)


def _pixel_from_name(sample: Sample, filename: str) -> Pixel | None:
    """A J-L-V or EL file sent to a device with pixels and no pixel: the pixel its file name
    names (``sweep_A_.csv``, ``px2``, ``run-B.txt``), else refused at the door with what to do —
    never stored to fail later with "parameter pixel_area_cm2 is required" (issue 14)."""
    device = getattr(sample, "device", None) if sample.kind == SampleKind.DEVICE else None
    if device is None or not device.pixels.exists():
        return None
    pixel, why = pixel_for_filename(device, filename)
    if pixel is None:
        names = ", ".join(device.pixels.order_by("name").values_list("name", flat=True))
        raise IngestError(f"{why}: {sample.label} is a device with pixels {names}, and a J-L-V or EL file "
                          f"belongs to one. Upload it to the pixel (target {sample.label}-A …), or put the "
                          "pixel in the file name (sweep_A_1.csv, jlv_px2.csv, el-B.txt)", field="pixel")
    return pixel


def resolve_target(label: str, user) -> tuple[Sample, Pixel | None]:
    """A sample label (DEV-0001) or a pixel label (DEV-0001-A), among those ``user`` may see.

    The restriction is part of the lookup (one query per kind of label, not a lookup and then an
    access check), and a label of another project gets the very answer a missing one gets — the
    same code and message — so an upload never confirms that another project's label exists."""
    pixel = restrict(Pixel.objects.select_related("device__sample").filter(label=label), user).first()
    if pixel is not None:
        return pixel.device.sample, pixel
    sample = restrict(Sample.objects.filter(label=label), user).first()
    if sample is None:
        raise IngestError(f"no sample or pixel labelled {label!r}", code="not_found", field="sample")
    return sample, None


# --- ingest -------------------------------------------------------------------------------------

def _check_calibrations(calibrations, filename: str) -> list[Calibration]:
    calibrations = list(calibrations or [])
    roles = [c.role for c in calibrations]
    twice = sorted({r for r in roles if roles.count(r) > 1})
    if twice:
        raise IngestError(f"{filename}: name one calibration per role, not several for {', '.join(twice)}",
                          field="calibrations")
    return calibrations


def _existing_answer(existing: MeasurementFile, *, filename: str, sample: Sample, pixel: Pixel | None, user,
                     kind: str | None, parameters: dict | None) -> IngestResult:
    """The same bytes again: the stored record if it is the same upload, a clear refusal otherwise."""
    if existing.sample_id != sample.pk or existing.pixel_id != (pixel.pk if pixel else None):
        if user is not None and not can_see(existing, user):
            # Never name another project's file or sample (sha256 is unique lab-wide).
            raise IngestError(f"{filename}: these bytes were already uploaded to a sample you cannot see",
                              code="conflict", field="file")
        raise IngestError(f"these bytes were already uploaded as {existing.original_name!r} for "
                          f"{existing.target_label} (file {existing.pk})", code="conflict", field="file")
    changed = []
    if kind and kind != existing.kind:
        changed.append(f"kind {kind} (stored as {existing.kind})")
    if parameters and parameters != (existing.parameters or {}):
        changed.append(f"parameters {parameters} (stored with {existing.parameters or {}})")
    if changed:
        # Not silently the old record: the new settings were not applied, and this says how to.
        raise IngestError(f"{filename}: these bytes are already stored as file {existing.pk} "
                          f"({existing.original_name!r}); the new {' and '.join(changed)} were not applied. "
                          f"Re-analyse file {existing.pk} with them (POST /api/v1/measurements/{existing.pk}/reanalyze/ "
                          "or the Re-analyse button on its page)", code="conflict", field="file")
    return IngestResult(existing, created=False)


# An upload larger than this is not read into memory: hashed and stored in chunks, sniffed and
# kind-guessed from its head (the worker reads it whole). Smaller ones are read as bytes.
INLINE_UPLOAD_BYTES = 4 * 1024 * 1024
UPLOAD_CHUNK_BYTES = 1024 * 1024


def _digest_of_file(upload) -> str:
    h = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(UPLOAD_CHUNK_BYTES):
        h.update(chunk)
    upload.seek(0)
    return h.hexdigest()


def _head_of(upload) -> bytes:
    """The first SNIFF_BYTES of a large text upload, cut at its last complete line."""
    from .parsers import SNIFF_BYTES

    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    cut = head.rfind(b"\n")
    return head[:cut + 1] if cut > 0 else head


def _store_bytes(digest: str, content) -> str:
    """Write the bytes (or a file, copied in chunks) under their hash once. Two racing uploads of
    one file write the same path; a storage that renamed the second copy gets it removed (no orphan)."""
    name = f"measurements/{digest[:2]}/{digest[2:4]}/{digest}"
    if default_storage.exists(name):
        return name
    if not isinstance(content, bytes):
        content.seek(0)
    saved = default_storage.save(name, ContentFile(content) if isinstance(content, bytes) else content)
    if saved != name:  # the other upload won the race between exists() and save()
        default_storage.delete(saved)
    return name


def measurement_file_ingest(*, content, filename: str, sample: Sample, pixel: Pixel | None = None,
                            kind: str | None = None, instrument: Instrument | None = None, user=None,
                            measured_at=None, metadata: dict | None = None, parameters: dict | None = None,
                            calibrations=None, idempotency_key: str = "") -> IngestResult:
    """Store the bytes once (content-addressed), create the row, queue the analysis on commit.

    The 415/201 contract: bytes no parser reads are refused (``unsupported_media``); a file a parser
    recognises but cannot read is stored and failed with the parser's reason; a file without a kind
    that reads as nothing reliable is stored as ``other`` with that reason shown.

    ``content`` is the bytes, or a Django ``File`` (an upload): one over ``INLINE_UPLOAD_BYTES``
    is hashed and stored in chunks and sniffed from its head, so a 50 MB upload costs the web
    process a few MB, not the file several times over."""
    size = len(content) if isinstance(content, bytes) else content.size
    if not size:
        raise IngestError(f"{filename}: the file is empty", field="file")
    if size > settings.LEDGER_MAX_UPLOAD_BYTES:
        raise IngestError(f"{filename}: {size / 1e6:.1f} MB is over the "
                          f"{settings.LEDGER_MAX_UPLOAD_BYTES / 1e6:.0f} MB limit", code="too_large", field="file")
    stream = None  # the file to copy to storage when it is not read into memory
    if not isinstance(content, bytes):
        if size <= INLINE_UPLOAD_BYTES:
            content.seek(0)
            content = content.read()
        else:
            stream, content = content, None
    if pixel is not None and pixel.device.sample_id != sample.pk:
        raise IngestError(f"pixel {pixel.label} does not belong to {sample.label}", field="pixel")
    if kind and kind not in MeasurementKind.values:
        raise IngestError(f"unknown kind {kind!r}; use one of {', '.join(MeasurementKind.values)}", field="kind")
    calibrations = _check_calibrations(calibrations, filename)
    digest = sha256_of(content) if stream is None else _digest_of_file(stream)
    if stream is not None:
        head = _head_of(stream)
        from .parsers import try_decode

        # A large text file is sniffed (and its kind guessed) from its head; a binary one (a zip
        # whose directory is at its end) must be read whole to be recognised.
        content = head if try_decode(head) else _read_all(stream)
        if content is not head:
            stream = None
    # The usual answer is "not stored yet": ask the unique sha256 index for an id alone, and load
    # the row with its sample and pixel only when the bytes are already here.
    seen = MeasurementFile.objects.filter(sha256=digest).order_by().values_list("pk", flat=True)[:1]
    if seen:
        existing = MeasurementFile.objects.select_related("sample", "pixel").get(pk=seen[0])
        return _existing_answer(existing, filename=filename, sample=sample, pixel=pixel, user=user, kind=kind,
                                parameters=parameters)
    metadata = dict(metadata or {})
    fmt, reason = "", ""
    if not kind and content.startswith(IMAGE_MAGIC):  # (the head of a streamed upload)
        kind = MeasurementKind.IMAGE  # GIWAXS frames, micrographs: stored and shown, not parsed
    if kind == MeasurementKind.IMAGE:
        from .images import NotAnImage, image_info

        try:
            metadata["image"] = image_info(content)  # the header only: a bomb is never decoded
        except NotAnImage as exc:
            reason = f"stored, not shown: {exc}"
    if kind not in NO_ANALYSIS:
        # Sniff now so an unreadable file is refused at the door (API: 415) rather than queued. A kind
        # given is read as the worker will read it: its shape's readers first (also cheaper than
        # ranking every reader; any reader still answers when none of the shape claims the file).
        try:
            parsed = parse_bytes(content, filename=filename, shape=_shape_for(kind, metadata) if kind else None)
        except UnknownFormat as exc:
            raise IngestError(str(exc), code="unsupported_media", field="file") from None
        except ParseError as exc:
            parsed = None  # recognised but broken: store it and say why
            if not kind:
                kind = _kind_of_claimed(exc, pixel=pixel, sample=sample)
                metadata["parse_error"] = str(exc)
                if kind == MeasurementKind.OTHER:
                    reason = (f"not analysed: {exc}. Choose its kind (or give a column map) and re-analyse it.")
                else:
                    # Queued as what its reader says it is: the analysis fails with the parse
                    # reason, and the file stays findable as a J-L-V (never a silent "other").
                    metadata["kind_guess"] = {"kind": kind, "confident": False,
                                              "evidence": f"claimed by the {exc.parser_name} reader, which could "
                                                          f"not read it"}
        if parsed is not None:
            fmt = parsed.format
            if not kind:
                guess = guess_kind(parsed, pixel=pixel, sample=sample)
                kind = guess.kind
                metadata["kind_guess"] = {"kind": guess.kind, "confident": guess.confident, "evidence": guess.evidence}
                if kind == MeasurementKind.OTHER:
                    reason = f"not analysed: {guess.evidence}."
    if pixel is None and kind in PIXEL_KINDS and "pixel_area_cm2" not in (parameters or {}):
        pixel = _pixel_from_name(sample, filename)
        if pixel is not None:
            metadata["pixel_from_filename"] = pixel.name
    status = FileStatus.STORED if kind in NO_ANALYSIS else FileStatus.QUEUED
    # Bytes first, outside the transaction: a race loser's insert fails on sha256 and finds the
    # winner's row, and both point at the one stored copy.
    name = _store_bytes(digest, content if stream is None else stream)
    try:
        with transaction.atomic():
            mf = MeasurementFile.objects.create(
                file=name, sha256=digest, original_name=filename[:255], size_bytes=size, kind=kind, format=fmt,
                instrument=instrument, uploaded_by=user, sample=sample, pixel=pixel, measured_at=measured_at,
                metadata=metadata, parameters=parameters or {}, status=status, failure_reason=reason,
                idempotency_key=idempotency_key[:200])
            if calibrations:
                mf.calibrations.set(calibrations)
            if status == FileStatus.QUEUED:
                enqueue(mf.pk)
    except IntegrityError:
        # A concurrent identical upload committed first (sha256, or the same Idempotency-Key).
        if idempotency_key and user is not None:
            same_key = MeasurementFile.objects.filter(uploaded_by=user, idempotency_key=idempotency_key[:200]).first()
            if same_key is not None:
                return IngestResult(same_key, created=False)
        winner = MeasurementFile.objects.filter(sha256=digest).select_related("sample", "pixel").first()
        if winner is None:
            raise
        return _existing_answer(winner, filename=filename, sample=sample, pixel=pixel, user=user, kind=kind,
                                parameters=parameters)
    return IngestResult(mf, created=True, calibrations=calibrations)


def _read_all(upload) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def enqueue(file_id: int) -> None:
    """Send the task once the row is committed. A broker that is down does not fail the upload:
    the row stays ``queued`` without ``enqueued_at`` and the sweep sends it (outbox)."""
    transaction.on_commit(lambda: _send(_analysis_task(), file_id))


def _analysis_task():
    # By name through the Celery app, so services never import tasks (tasks import services);
    # MeasurementsConfig.ready imports tasks, so the name is registered in every process.
    from celery import current_app

    return current_app.tasks["measurements.tasks.analyze_measurement_file"]


def _send(task, file_id: int) -> bool:
    """Publish the task now; True when the broker took it (then ``enqueued_at`` says when)."""
    try:
        task.delay(file_id)
    except Exception as exc:  # noqa: BLE001 — kombu raises many kinds; all mean "not sent"
        log.warning("measurement file %s: task not sent (%s: %s); the sweep will send it",
                    file_id, type(exc).__name__, exc)
        return False
    MeasurementFile.objects.filter(pk=file_id, status=FileStatus.QUEUED).update(enqueued_at=timezone.now())
    return True


# --- claims and the sweep ------------------------------------------------------------------------

def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimer_is_gone(claimed_by: str) -> bool:
    """True when the claim was made on this host by a process that no longer exists (SIGKILL, OOM)."""
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdecimal():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _give_up_reason(attempts: int) -> str:
    return (f"the analysis was started {attempts} times and never finished (the worker was killed, ran out of "
            f"memory or passed the {settings.LEDGER_ANALYSIS_TIMEOUT_S} s limit); the file is kept — "
            "re-analyse it once the cause is fixed")


def claim(file_id: int, *, force: bool = False) -> bool:
    """Take the file for processing with one conditional UPDATE, so two workers never run it twice.
    A claim whose worker is gone (same host, dead pid) or that is older than the stale threshold is
    taken over, up to ``LEDGER_MAX_ATTEMPTS`` starts; past that the file is failed with a reason."""
    now = timezone.now()
    me = worker_identity()
    if force:
        return bool(MeasurementFile.objects.filter(pk=file_id).exclude(status=FileStatus.RUNNING, started_at__gte=now - timedelta(
            seconds=settings.LEDGER_STALE_CLAIM_S)).update(
            status=FileStatus.RUNNING, started_at=now, attempts=1, failure_reason="", claimed_by=me))
    stale = now - timedelta(seconds=settings.LEDGER_STALE_CLAIM_S)
    limit = settings.LEDGER_MAX_ATTEMPTS
    claimable = Q(status=FileStatus.QUEUED) | Q(status=FileStatus.RUNNING, started_at__lt=stale, attempts__lt=limit)
    take = dict(status=FileStatus.RUNNING, started_at=now, attempts=F("attempts") + 1, failure_reason="", claimed_by=me)
    if MeasurementFile.objects.filter(claimable, pk=file_id).update(**take):
        return True
    row = MeasurementFile.objects.filter(pk=file_id).values("status", "claimed_by", "attempts", "started_at").first()
    if row is None or row["status"] != FileStatus.RUNNING:
        return False
    gone = _claimer_is_gone(row["claimed_by"]) or (row["started_at"] is not None and row["started_at"] < stale)
    if not gone:
        return False
    held = Q(pk=file_id, status=FileStatus.RUNNING, claimed_by=row["claimed_by"], started_at=row["started_at"])
    if row["attempts"] >= limit:
        MeasurementFile.objects.filter(held).update(status=FileStatus.FAILED, finished_at=now, claimed_by="",
                                                    failure_reason=_give_up_reason(row["attempts"]))
        return False
    return bool(MeasurementFile.objects.filter(held).update(**take))


def _finish(mf: MeasurementFile, status: str, reason: str = "", **meta: Any) -> None:
    mf.status, mf.failure_reason, mf.finished_at, mf.claimed_by = status, reason[:2000], timezone.now(), ""
    fields = ["status", "failure_reason", "finished_at", "claimed_by", "updated_at"]
    if meta:
        mf.metadata = {**mf.metadata, **meta}
        if "paired_with" not in meta:
            mf.metadata.pop("paired_with", None)  # it ran its own analysis this time
        fields.append("metadata")
    mf.save(update_fields=fields)
    if status != FileStatus.DONE:
        _wake_paired(mf.pk)
    events.emit(f"analysis.{status}", file_id=mf.pk)  # done/failed: webhooks and others hear of it on commit


def requeue(file_id: int) -> None:
    """Put a claimed file back in the queue (transient error; Celery retries)."""
    MeasurementFile.objects.filter(pk=file_id, status=FileStatus.RUNNING).update(
        status=FileStatus.QUEUED, claimed_by="", enqueued_at=timezone.now())


def fail_after_retries(file_id: int, exc: Exception, *, attempts: int) -> None:
    MeasurementFile.objects.filter(pk=file_id).exclude(status=FileStatus.DONE).update(
        status=FileStatus.FAILED, finished_at=timezone.now(), claimed_by="",
        failure_reason=f"gave up after {attempts} attempts ({type(exc).__name__}: {exc}); re-run it with reanalyze")
    _wake_paired(file_id)


def fail_file(file_id: int, reason: str) -> None:
    """Fail a claimed file from outside the service (time limit, memory cap) with a reason."""
    MeasurementFile.objects.filter(pk=file_id).exclude(status=FileStatus.DONE).update(
        status=FileStatus.FAILED, finished_at=timezone.now(), claimed_by="", failure_reason=reason[:2000])
    _wake_paired(file_id)


def sweep_files() -> dict[str, int]:
    """The periodic sweep (beat, every ``LEDGER_SWEEP_INTERVAL_S``): nothing waits for a person.

    - a ``running`` file whose claim is stale (older than ``LEDGER_STALE_CLAIM_S``, i.e. past the
      hard time limit) or whose worker process is gone is put back in the queue and sent again —
      or failed with the reason once it has been started ``LEDGER_MAX_ATTEMPTS`` times;
    - a ``queued`` file whose message never reached the broker (broker down at upload) and that is
      older than ``LEDGER_REQUEUE_AFTER_S``, or whose message is older than the stale threshold
      (lost with a broker restart), is sent again. A duplicate message is harmless: the claim is
      a conditional UPDATE and the second delivery finds the file done."""
    analyze_measurement_file = _analysis_task()
    now = timezone.now()
    stale = now - timedelta(seconds=settings.LEDGER_STALE_CLAIM_S)
    counts = {"requeued": 0, "failed": 0, "sent": 0}
    resend: list[int] = []
    running = MeasurementFile.objects.filter(status=FileStatus.RUNNING).values_list("pk", "claimed_by", "started_at", "attempts")
    for pk, claimed_by, started_at, attempts in running:
        if not ((started_at is not None and started_at < stale) or _claimer_is_gone(claimed_by)):
            continue
        held = MeasurementFile.objects.filter(pk=pk, status=FileStatus.RUNNING, started_at=started_at)
        if attempts >= settings.LEDGER_MAX_ATTEMPTS:
            counts["failed"] += held.update(status=FileStatus.FAILED, finished_at=now, claimed_by="",
                                            failure_reason=_give_up_reason(attempts))
        elif held.update(status=FileStatus.QUEUED, claimed_by="", enqueued_at=None):
            counts["requeued"] += 1
            resend.append(pk)
    due = now - timedelta(seconds=settings.LEDGER_REQUEUE_AFTER_S)
    queued = MeasurementFile.objects.filter(Q(enqueued_at__isnull=True, created_at__lt=due) | Q(enqueued_at__lt=stale),
                                            status=FileStatus.QUEUED).exclude(pk__in=resend)
    for pk in [*resend, *queued.order_by("created_at", "id").values_list("pk", flat=True)[:5000]]:
        if not _send(analyze_measurement_file, pk):
            break  # the broker is still down: the next sweep tries again
        counts["sent"] += 1
    if any(counts.values()):
        log.info("measurement sweep: %s", counts)
    return counts


def fail_stale_files() -> int:
    """Kept for an old beat schedule that still names it: the sweep requeues before it fails."""
    return sweep_files()["failed"]


# --- processing ---------------------------------------------------------------------------------

def _read(mf) -> bytes:
    with mf.file.open("rb") as fh:
        return fh.read()


def _el_wanted(mf: MeasurementFile) -> str:
    """What a J-L-V sweep without a usable EL spectrum waits for, naming the pixel's EL file that
    failed (a dark spectrum of a shorted pixel, say) rather than implying none was uploaded."""
    qs = MeasurementFile.objects.filter(kind=MeasurementKind.EL, hidden=False, status=FileStatus.FAILED)
    qs = qs.filter(pixel=mf.pixel_id) if mf.pixel_id else qs.filter(sample=mf.sample_id, pixel__isnull=True)
    failed = qs.order_by("-created_at", "-id").first()
    if failed is None:
        return "the EL spectrum of this pixel (EQE needs it)"
    return (f"a usable EL spectrum of this pixel (EQE needs it): {failed.original_name} (file {failed.pk}) failed — "
            f"{failed.failure_reason}")


def _siblings(mf: MeasurementFile, kind: str) -> list[MeasurementFile]:
    """Usable files of ``kind`` on the same target (this one included), newest first."""
    qs = MeasurementFile.objects.filter(kind=kind, hidden=False).exclude(status__in=[FileStatus.FAILED, FileStatus.STORED])
    qs = qs.filter(pixel=mf.pixel_id) if mf.pixel_id else qs.filter(sample=mf.sample_id, pixel__isnull=True)
    return list(qs.select_related("instrument").order_by("-created_at", "-id"))


# Calibration files an analysis input role takes: analysis kind → [(calibration role, analysis
# input role, input role whose file's instrument supplies it)].
CALIBRATION_INPUTS: dict[str, list[tuple[str, str, str]]] = {
    MeasurementKind.JLV: [(CalibrationRole.PHOTODIODE_RESPONSIVITY, "responsivity", "jlv"),
                          (CalibrationRole.SPECTROMETER_INTENSITY, "calibration", "el")],
    MeasurementKind.EL: [(CalibrationRole.SPECTROMETER_INTENSITY, "calibration", "el")],
    MeasurementKind.PLQY: [(CalibrationRole.SPHERE, "calibration", "in_beam")],
}


def calibration_for(mf: MeasurementFile, role: str) -> Calibration | None:
    """The calibration of ``role`` this file names, else its instrument's valid at ``measured_at``
    (upload time when the file does not say when it was measured)."""
    named = next((c for c in mf.calibrations.all() if c.role == role), None)
    if named is not None or not mf.instrument_id:
        return named
    when = mf.measured_at or mf.created_at or timezone.now()
    return (Calibration.objects.filter(instrument=mf.instrument_id, role=role, valid_from__lte=when)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=when)).order_by("-valid_from", "-id").first())


@dataclass
class Plan:
    """What to analyse once a file is readable: the kind, its inputs by role, the files used."""

    kind: str
    files: dict[str, list[MeasurementFile]]
    waiting_for: str = ""
    calibrations: dict[str, Calibration] = field(default_factory=dict)  # analysis input role → calibration

    def source_ids(self) -> list[int]:
        return sorted({f.pk for fs in self.files.values() for f in fs})

    def calibration_ids(self) -> list[int]:
        return sorted(c.pk for c in self.calibrations.values())


def _plan(mf: MeasurementFile) -> Plan:
    plan = _plan_files(mf)
    if plan.waiting_for:
        return plan
    if CALIBRATION_INPUTS.get(plan.kind):
        # The named calibrations of every file of the plan in one query, not one per file and role
        # (calibration_for reads them from this cache).
        unique = list({f.pk: f for fs in plan.files.values() for f in fs}.values())
        prefetch_related_objects([f for f in unique if "calibrations" not in getattr(f, "_prefetched_objects_cache", {})],
                                 "calibrations")
    for cal_role, input_role, source_role in CALIBRATION_INPUTS.get(plan.kind, []):
        spec_roles = {r.name for r in get_spec(plan.kind).roles}
        if input_role not in spec_roles or plan.files.get(input_role):
            continue
        for source in (plan.files.get(source_role) or []) + [f for fs in plan.files.values() for f in fs]:
            found = calibration_for(source, cal_role)
            if found is not None:
                plan.calibrations[input_role] = found
                break
    return plan


def _plan_files(mf: MeasurementFile) -> Plan:
    kind = mf.kind
    if kind in (MeasurementKind.JLV, MeasurementKind.EL):
        # The current pair of a pixel is its newest J-L-V sweep with its newest EL spectrum, however
        # the two arrive: both files plan the same pair, and the second store finds it done.
        sweeps = _siblings(mf, MeasurementKind.JLV)
        spectra = _siblings(mf, MeasurementKind.EL)
        if kind == MeasurementKind.JLV and not spectra:
            return Plan(kind, {"jlv": [mf]}, waiting_for=_el_wanted(mf))
        if kind == MeasurementKind.EL and not sweeps:
            return Plan(kind, {_first_role(kind): [spectra[0] if spectra else mf]})
        return Plan(MeasurementKind.JLV, {"jlv": sweeps[:1] or [mf], "el": spectra[:1] or [mf]})
    if kind == MeasurementKind.LIFETIME:
        # Every lifetime run of the device goes into the acceleration fit L0^n·T50 = C.
        qs = MeasurementFile.objects.filter(kind=kind, sample=mf.sample, hidden=False).exclude(
            status__in=[FileStatus.FAILED, FileStatus.STORED]).exclude(pk=mf.pk).order_by("created_at", "id")
        return Plan(kind, {_first_role(kind): [*qs, mf]})
    if kind == MeasurementKind.PLQY:
        role = (mf.metadata or {}).get("role") or (mf.parameters or {}).get("role")
        roles = {r.name for r in get_spec(kind).roles if r.name != "calibration"}
        if role not in roles:
            raise AnalysisError(f"{mf.original_name}: a PLQY file needs metadata role = one of {', '.join(sorted(roles))}")
        files: dict[str, list[MeasurementFile]] = {role: [mf]}
        siblings = MeasurementFile.objects.filter(kind=kind, sample=mf.sample, hidden=False).exclude(
            status__in=[FileStatus.FAILED, FileStatus.STORED]).exclude(pk=mf.pk).order_by("-created_at", "-id")
        for other in siblings:
            other_role = (other.metadata or {}).get("role")
            if other_role in roles and other_role not in files:
                files[other_role] = [other]
        missing = [r.name for r in get_spec(kind).roles if r.required and r.name not in files]
        if missing:
            return Plan(kind, files, waiting_for=f"the {', '.join(missing)} spectrum")
        return Plan(kind, files)
    return Plan(kind, {_first_role(kind): [mf]})


def _shape_for(kind: str, metadata: dict | None) -> str | None:
    """The one shape a file of ``kind`` is read as (its role's), or None when the role admits several."""
    spec = get_spec(kind)
    role_name = (metadata or {}).get("role") if kind == MeasurementKind.PLQY else None
    role = next((r for r in spec.roles if r.name == role_name), None) or next(
        (r for r in spec.roles if r.name == kind), spec.roles[0])
    return role.shapes[0] if len(role.shapes) == 1 else None


def _first_role(kind: str) -> str:
    return get_spec(kind).roles[0].name


def _params_for(plan: Plan, mf: MeasurementFile) -> dict[str, Any]:
    """Pixel area, instrument settings, then each source file's own parameters (the file being
    processed last, so a re-analysis request wins)."""
    spec = get_spec(plan.kind)
    names = {p.name for p in spec.params}
    sources = [f for fs in plan.files.values() for f in fs]
    primary = sources[0] if sources else mf
    params: dict[str, Any] = {}
    if "pixel_area_cm2" in names and primary.pixel_id:
        params["pixel_area_cm2"] = primary.pixel.area_cm2
    for f in sources:
        if "wavelength_a" in names and f.instrument_id and f.instrument.xray_wavelength_a:
            params.setdefault("wavelength_a", f.instrument.xray_wavelength_a)
        if f.instrument_id:
            params.update({k: v for k, v in (f.instrument.settings or {}).items() if k in names and k not in params})
    for f in [*(s for s in sources if s.pk != mf.pk), mf]:
        params.update({k: v for k, v in (f.parameters or {}).items() if k in names})
    return params


def _parse_options(plan: Plan) -> dict[str, dict]:
    """A column map given for a file applies to that file's input role."""
    options: dict[str, dict] = {}
    for role, fs in plan.files.items():
        for f in fs:
            column_map = (f.metadata or {}).get("column_map")
            if column_map:
                options[role] = column_map
    return options


def _raw_inputs(plan: Plan, mf: MeasurementFile | None = None, parsed: ParsedData | None = None,
                skip: frozenset[int] = frozenset()) -> dict[str, list[tuple[str, bytes | ParsedData]]]:
    """Bytes of every input (but the files in ``skip``); the file being processed is passed as
    ``parsed`` (read once) when its role reads it with the same shape and options as its own parse did."""
    own_options = ((mf.metadata or {}).get("column_map") or None) if mf is not None else None
    options = _parse_options(plan)
    roles = {r.name: r for r in get_spec(plan.kind).roles}

    def entry(role: str, f: MeasurementFile) -> tuple[str, bytes | ParsedData]:
        if parsed is not None and f.pk == mf.pk and parsed.shape in roles[role].shapes and \
                (options.get(role) or None) == own_options and len(roles[role].shapes) == 1:
            return f.original_name, parsed
        return f.original_name, _read(f)

    raw = {role: [entry(role, f) for f in fs if f.pk not in skip] for role, fs in plan.files.items()}
    for role, cal in plan.calibrations.items():
        raw[role] = [(cal.original_name, _read(cal))]
    return raw


def _parsed_inputs(plan: Plan, mf: MeasurementFile, parsed: ParsedData, params: dict[str, Any], *,
                   reuse_runs: bool) -> dict[str, list[Any]]:
    """Every input parsed and checked — except a device's lifetime runs whose own results are
    stored (``lifetime_runs``): those stand in for their files, and only the new runs are read
    and fitted. The file being processed is always fitted (a re-analysis of it means it)."""
    options = _parse_options(plan)
    role = _first_role(plan.kind)
    stored = {}
    if reuse_runs and plan.kind == MeasurementKind.LIFETIME and not (mf.metadata or {}).get("sample_column"):
        others = [f.pk for f in plan.files[role] if f.pk != mf.pk]
        stored = stored_runs(mf.sample_id, others, options.get(role), params)
    inputs = parse_inputs(plan.kind, _raw_inputs(plan, mf, parsed, skip=frozenset(stored)), parse_options=options)
    if stored:
        fresh = iter(inputs.get(role, []))
        inputs[role] = [stored.get(f.pk) or next(fresh) for f in plan.files[role]]
    return inputs


def _only_sample_column(mf: MeasurementFile, plan: Plan,
                        inputs: dict[str, list[ParsedData]]) -> dict[str, list[ParsedData]]:
    """The upload named one sample of a multi-sample file (``sample_column``): analyse that entry of
    ``ParsedData.samples`` on its own (analysis/base.py: an entry has no samples of its own)."""
    wanted = str((mf.metadata or {}).get("sample_column") or "")
    role = _first_role(plan.kind)
    given = inputs.get(role) or []
    if not wanted or not given:
        return inputs
    titles = [s.metadata.get("sample") for s in given[0].samples]
    if wanted not in titles:
        held = f"the file holds {', '.join(map(str, titles))}" if titles else "the file holds one sample"
        raise AnalysisError(f"{mf.original_name}: no sample column {wanted!r}; {held}")
    return {**inputs, role: [given[0].samples[titles.index(wanted)], *given[1:]]}


def _outcomes(mf: MeasurementFile, plan: Plan, params: dict[str, Any],
              result: AnalysisResult) -> tuple[list[_Outcome], dict[str, str]]:
    """What to store: the result itself, or one outcome per sample of a multi-sample file (the
    analysis returns them in ``result.samples``, named by column title or scan), and the samples
    that gave no number with their reasons."""
    if not result.samples:
        return [_Outcome("", result, _inputs_signature(plan, params, "", result.version))], {}
    titles = [str(s.sample) for s in result.samples]
    if mf.pixel_id or len(plan.files.get(_first_role(plan.kind), [])) != 1:
        raise AnalysisError(f"{mf.original_name}: {len(titles)} samples in one file ({', '.join(titles)}); "
                            f"{mf.target_label} takes one — upload it to a sample, or name one with sample_column")
    outcomes = []
    for entry in result.samples:
        if not entry.metrics:
            continue
        entry.method = entry.method or result.method
        entry.version = entry.version or result.version
        entry.parameters = {**result.parameters, **entry.parameters}
        entry.warnings = [*result.warnings, *entry.warnings]  # the file's caveats hold for each sample
        subject = str(entry.sample)[:120]
        outcomes.append(_Outcome(subject, entry, _inputs_signature(plan, params, subject, entry.version)))
    failures = {str(e.sample): e.error or "no metric" for e in result.samples if not e.metrics}
    return outcomes, failures


def _inputs_signature(plan: Plan, params: dict[str, Any], subject: str, version: str) -> dict[str, Any]:
    return {"sources": plan.source_ids(), "calibrations": plan.calibration_ids(), "parameters": jsonable(params),
            "subject": subject, "version": version, "column_maps": jsonable(_parse_options(plan))}


def _already_current(plan: Plan, target: tuple[Sample, Pixel | None], signature: dict[str, Any]) -> bool:
    sample, pixel = target
    # Only result["inputs"]: the whole result carries the curves and charts (tens of kB).
    current = (Analysis.objects.filter(sample=sample, pixel=pixel, kind=plan.kind, subject=signature["subject"],
                                       superseded=False)
               .annotate(inputs=KeyTransform("inputs", "result")).values_list("inputs", flat=True).first())
    return current is not None and current == signature


def _target(plan: Plan, mf: MeasurementFile) -> tuple[Sample, Pixel | None]:
    # Several lifetime runs make one device-level fit (n, T50 at 100 cd/m²); per-run values go to
    # each run's pixel in store_analysis.
    pixel = None if plan.kind == MeasurementKind.LIFETIME and len(plan.source_ids()) > 1 else mf.pixel
    return mf.sample, pixel


@dataclass
class _Outcome:
    subject: str
    result: AnalysisResult
    signature: dict[str, Any]


def _low_confidence_block(mf: MeasurementFile, plan: Plan) -> str:
    """A guessed kind that the evidence does not support must not replace a sample's metrics."""
    guess = (mf.metadata or {}).get("kind_guess") or {}
    if guess.get("confident", True) or guess.get("kind") != mf.kind:
        return ""
    existing = DerivedMetric.objects.filter(sample=mf.sample_id, pixel=mf.pixel_id, superseded=False,
                                            analysis__kind=plan.kind).exclude(analysis__sources=mf).exists()
    if not existing:
        return ""
    return (f"not analysed: {guess.get('evidence', 'the kind was guessed')}; {mf.target_label} already has "
            f"{MeasurementKind(plan.kind).label} metrics from other files, which a guess must not replace. "
            "Re-analyse it with its kind to use it")


def measurement_file_process(file_id: int, *, force: bool = False) -> str:
    """Claim → parse/analyse → store → terminal status. Returns the final status.

    ParseError/AnalysisError fail the file at once with their reason; anything else is treated
    as transient by the task (retried with backoff) after the file is put back in the queue.
    ``force`` (the reanalyze command) claims a settled file again and stores even an identical result."""
    if not claim(file_id, force=force):
        return MeasurementFile.objects.filter(pk=file_id).values_list("status", flat=True).first() or "missing"
    mf = MeasurementFile.objects.select_related("sample", "pixel__device", "instrument").get(pk=file_id)
    try:
        # Parse this file on its own first, as what its kind needs (a solar-cell J-V uploaded as
        # jlv fails here with "no luminance or photodiode column"), so its failure names this file.
        parsed = parse_bytes(_read(mf), filename=mf.original_name, shape=_shape_for(mf.kind, mf.metadata),
                             options=(mf.metadata or {}).get("column_map") or None)
        if mf.format != parsed.format:
            mf.format = parsed.format
            mf.save(update_fields=["format"])
        planned = None
        if not force:
            partner, planned = _read_and_check_partners(mf)
            if partner is not None:
                # The partner's own task reads it later and analyses the pair then: once, not twice.
                _finish(mf, FileStatus.DONE, waiting_for=f"{partner.original_name} (file {partner.pk}) to be read: "
                                                         "the analysis runs with it", paired_with=partner.pk)
                return FileStatus.DONE
        for attempt in range(3):
            # The plan made under the lock just now serves the first attempt (the store re-checks it
            # under the lock again); a retry plans afresh.
            plan = planned if attempt == 0 and planned is not None else _plan(mf)
            if plan.waiting_for:
                _finish(mf, FileStatus.DONE, waiting_for=plan.waiting_for)
                return FileStatus.DONE
            blocked = _low_confidence_block(mf, plan)
            if blocked:
                _finish(mf, FileStatus.STORED, blocked)
                return FileStatus.STORED
            params = _params_for(plan, mf)
            resolve_params(get_spec(plan.kind), params)  # name a bad parameter before reading the files
            version = get_spec(plan.kind).version
            if not force and all(_already_current(plan, _target(plan, mf), _inputs_signature(plan, params, s, version))
                                 for s in _known_subjects(plan, mf)):
                _finish(mf, FileStatus.DONE, waiting_for="")  # the partner file's run stored this pair already
                return FileStatus.DONE
            inputs = _parsed_inputs(plan, mf, parsed, params, reuse_runs=not force)
            result = run_parsed(plan.kind, _only_sample_column(mf, plan, inputs), params)
            if plan.kind == MeasurementKind.LIFETIME:
                role = _first_role(plan.kind)
                label_runs(result, [f.pk for f in plan.files[role]], _parse_options(plan).get(role), params)
            outcomes, failures = _outcomes(mf, plan, params, result)
            stored = _store_locked(mf, plan, outcomes, force=force)
            if stored is not None:
                break
            log.info("file %s: its partner files changed while it was analysed; planning again (%d)", file_id, attempt + 1)
        else:
            raise AnalysisError(f"{mf.original_name}: the files of this target kept changing while it was analysed; "
                                "re-analyse it")
        # No figure is drawn here: the analysis stored its charts as data (result["charts"]),
        # which the pages draw in the browser; a PNG/SVG is drawn on first request (plot_image).
        _finish(mf, FileStatus.DONE, waiting_for="", samples_not_analysed=failures)
    except (ParseError, AnalysisError) as exc:
        _finish(mf, FileStatus.FAILED, str(exc))
        return FileStatus.FAILED
    except FileNotFoundError:
        # Not transient: the stored bytes are gone (storage misconfigured or restored wrongly).
        _finish(mf, FileStatus.FAILED, f"the stored file {mf.file.name} is missing from storage")
        return FileStatus.FAILED
    except (DatabaseError, OSError):
        raise  # transient: the task requeues and retries
    except MemoryError:
        _finish(mf, FileStatus.FAILED, f"{mf.original_name}: the analysis ran out of memory (worker limit "
                                       f"{settings.LEDGER_WORKER_MEMORY_MB} MB); the file is too large or malformed")
        return FileStatus.FAILED
    except Exception as exc:  # a bug must not leave the file "running" or invent a number
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            raise  # the task fails the file with the time limit as the reason
        log.exception("analysis of measurement file %s crashed", file_id)
        _finish(mf, FileStatus.FAILED, f"internal error while analysing ({type(exc).__name__}: {exc}); "
                                       "the file is kept — report it with this message")
        return FileStatus.FAILED
    return FileStatus.DONE


def _readable(f: MeasurementFile) -> bool:
    """Read by a task that got past its own parse: done, or running with this claim's read_at."""
    if f.status == FileStatus.DONE:
        return True
    return f.status == FileStatus.RUNNING and f.read_at is not None and f.started_at is not None and \
        f.read_at >= f.started_at


def _read_and_check_partners(mf: MeasurementFile) -> tuple[MeasurementFile | None, Plan]:
    """Mark this claim's file as read and find a partner of its plan not read yet, under the
    target lock. Of two (or more) files of one plan processed at the same time, each marks itself
    and looks at the others inside one locked section, so exactly one — the last to enter — sees
    all of them read and analyses; the others leave the analysis to it. A partner still queued is
    left to analyse (its task comes later); if it then fails, the files waiting for it are queued
    again (``_wake_paired``). Returns that partner (or None) and the plan seen."""
    with transaction.atomic():
        _lock_target(mf.sample_id)
        now = timezone.now()
        MeasurementFile.objects.filter(pk=mf.pk).update(read_at=now)
        mf.read_at = now
        plan = _plan(mf)
        if plan.waiting_for:
            return None, plan
        return next((f for fs in plan.files.values() for f in fs if f.pk != mf.pk and not _readable(f)), None), plan


def _wake_paired(file_id: int) -> None:
    """Files that left their analysis to this one, which did not get to it (failed, refused):
    queue them again so they are analysed with whatever partners remain."""
    sample_id = MeasurementFile.objects.filter(pk=file_id).values_list("sample_id", flat=True).first()
    if sample_id is None:
        return
    waiting = MeasurementFile.objects.filter(sample=sample_id, status=FileStatus.DONE, metadata__paired_with=file_id)
    for pk in waiting.values_list("pk", flat=True):
        if MeasurementFile.objects.filter(pk=pk, status=FileStatus.DONE).update(
                status=FileStatus.QUEUED, attempts=0, claimed_by="", enqueued_at=None, updated_at=timezone.now()):
            enqueue(pk)


def _known_subjects(plan: Plan, mf: MeasurementFile) -> list[str]:
    """Subjects the current analyses of this plan's files carry (for the 'already stored' check)."""
    subjects = list(Analysis.objects.filter(sources=mf, kind=plan.kind, superseded=False).values_list("subject", flat=True))
    return subjects or [""]


def _lock_target(sample_id: int) -> None:
    """Serialise every store on one sample (its pixels, its device roll-ups) for this transaction.
    PostgreSQL: a row lock; SQLite already serialises writers (BEGIN IMMEDIATE)."""
    list(Sample.objects.select_for_update().filter(pk=sample_id).values_list("pk", flat=True))


def _store_locked(mf: MeasurementFile, plan: Plan, outcomes: list[_Outcome], *,
                  force: bool) -> list[tuple[Analysis, AnalysisResult]] | None:
    """Store under the target lock: the analyses stored (with their results), or
    None when the plan changed meanwhile (a newer partner file): the caller plans and analyses
    again so the stored result is the newest pair."""
    stored = []
    with transaction.atomic():
        _lock_target(mf.sample_id)
        fresh = _plan(mf)
        if fresh.kind != plan.kind or fresh.source_ids() != plan.source_ids() or \
                fresh.calibration_ids() != plan.calibration_ids():
            return None
        for outcome in outcomes:
            target = _target(plan, mf)
            if not force and _already_current(plan, target, outcome.signature):
                continue
            analysis = store_analysis(plan.kind, outcome.result, plan.files, sample=target[0], pixel=target[1],
                                      subject=outcome.subject, calibrations=list(plan.calibrations.values()),
                                      inputs=outcome.signature)
            stored.append((analysis, outcome.result))
    return stored


def plot_image(analysis: Analysis, name: str, fmt: str) -> bytes:
    """The PNG or SVG of one of the analysis's stored charts, drawn on the first request and kept
    in its ``Plot`` row (the cache: a chart of a stored analysis never changes; a re-analysis is a
    new Analysis). Raises LookupError when the analysis has no chart of that name."""
    if fmt not in ("png", "svg"):
        raise LookupError(f"no {fmt!r} figures; use png or svg")
    cached = Plot.objects.filter(analysis=analysis, name=name).first()
    if cached is not None and (cached.png if fmt == "png" else cached.svg):
        return bytes(cached.png) if fmt == "png" else cached.svg.encode()
    chart = next((c for c in (analysis.result or {}).get("charts", []) if c.get("name") == name), None)
    if chart is None:
        raise LookupError(f"analysis {analysis.pk} has no figure {name!r}")
    image = render_chart(chart, fmt)
    field = {"png": image} if fmt == "png" else {"svg": image.decode()}
    # Two requests drawing the same figure at once store the same bytes: the loser of the insert
    # race updates the winner's row.
    defaults = {"title": chart.get("title", "")[:200], **field}
    try:
        with transaction.atomic():
            Plot.objects.update_or_create(analysis=analysis, name=name, defaults=defaults)
    except IntegrityError:
        Plot.objects.filter(analysis=analysis, name=name).update(**defaults)
    return image


def cached_pngs(keys: set[tuple[int, str]]) -> dict[tuple[int, str], bytes]:
    """The stored PNGs of several (analysis id, figure name) in one query: what an analysis stored
    before charts existed has (its figures were drawn in the worker), and what ``plot_image``
    cached since."""
    if not keys:
        return {}
    rows = (Plot.objects.filter(analysis_id__in={k[0] for k in keys}, name__in={k[1] for k in keys})
            .exclude(png=b"").only("analysis_id", "name", "png"))
    return {(p.analysis_id, p.name): bytes(p.png) for p in rows if (p.analysis_id, p.name) in keys}


def _charts(kind: str, result: AnalysisResult, pk_hint: str) -> list[dict[str, Any]]:
    """The analysis's figures as downsampled curves (analysis/charts.py). A charting bug leaves the
    analysis without figures, never without its (correct) numbers."""
    try:
        return charts_for(kind, result)
    except Exception:  # noqa: BLE001 — see the docstring
        log.exception("%s: the charts of this %s analysis could not be built", pk_hint, kind)
        return []


def _overlays(arrays: dict[str, list], pk_hint: str) -> dict[str, Any] | None:
    """Compare's curves of the stored arrays (``charts.overlays``); on a bug, None — Compare then
    thins the arrays itself, and the analysis keeps its numbers."""
    try:
        return overlays(arrays)
    except Exception:  # noqa: BLE001 — see the docstring
        log.exception("%s: the Compare curves of this analysis could not be built", pk_hint)
        return None


def store_analysis(kind: str, result: AnalysisResult, files: dict[str, list[MeasurementFile]], *,
                   sample: Sample, pixel: Pixel | None, subject: str = "", calibrations=(),
                   inputs: dict[str, Any] | None = None) -> Analysis:
    """Store an analysis and its metrics; older current analyses of the same kind and
    subject on the same target, and their metrics and same-named current metrics, are marked
    superseded first (never deleted). Call inside the target's lock (``_store_locked``).

    Its figures are stored as data (``result["charts"]``: downsampled curves with axis names and
    units) for the browser to draw; no figure is drawn here (``plot_image`` draws one on request)."""
    sources = [f for fs in files.values() for f in fs]
    older = Analysis.objects.filter(sample=sample, pixel=pixel, kind=kind, subject=subject, superseded=False)
    older_ids = list(older.values_list("pk", flat=True))
    names = list(result.metrics)
    # Two UPDATEs, each on an index, rather than one OR that scans the metrics table: everything
    # the older analyses gave (a metric the new method no longer reports must not stay current),
    # and same-named rows on this target from other kinds' analyses (an EL-only run's peak).
    if older_ids:
        DerivedMetric.objects.filter(analysis__in=older_ids, superseded=False).update(superseded=True)
        Analysis.objects.filter(pk__in=older_ids).update(superseded=True)
    if names:
        DerivedMetric.objects.filter(sample=sample, name__in=names, pixel=pixel, subject=subject, superseded=False,
                                     aggregate=Aggregate.VALUE).update(superseded=True)
    arrays = _curvesjsonable(result.arrays)
    analysis = Analysis.objects.create(
        kind=kind, method=result.method, version=result.version, parameters=jsonable(result.parameters),
        sample=sample, pixel=pixel, subject=subject, warnings=list(result.warnings),
        result={"per_file": jsonable(result.per_file), "metrics": jsonable(result.metrics_json()),
                "arrays": arrays, "charts": _charts(kind, result, sample.label), "inputs": inputs or {}},
        overlay=_overlays(arrays, sample.label))
    analysis.sources.set(sources)
    if calibrations:
        analysis.calibrations.set(calibrations)
    device = pixel.device if pixel else getattr(sample, "device", None)
    scope = MetricScope.PIXEL if pixel else MetricScope.DEVICE if device else MetricScope.SAMPLE
    DerivedMetric.objects.bulk_create([
        DerivedMetric(name=m.name, value=m.value, unit=m.unit, uncertainty=m.uncertainty, flags=list(m.flags),
                      extra=jsonable(m.extra), scope=scope, sample=sample, device=device, pixel=pixel, subject=subject,
                      analysis=analysis, method=result.method, version=result.version)
        for m in result.metrics.values()
    ])
    _store_per_file_metrics(result, files, analysis)
    if names or len(result.per_file) > 1:  # the runs behind these samples are now measured (insights' window)
        runs_mark_measured({sample.pk, *(f.sample_id for f in sources)})
    if pixel:
        rollup_device(pixel.device, names)
    return analysis


def _store_per_file_metrics(result: AnalysisResult, files, analysis: Analysis) -> None:
    """Lifetime runs: each file's T50 etc. goes to that file's own pixel (several pixels, one fit)."""
    if len(result.per_file) < 2:
        return
    # per_file follows the order of the input files; match by position, since two pixels' runs
    # often carry the same instrument file name. By name only if the counts differ.
    ordered = [f for fs in files.values() for f in fs]
    by_name = {f.original_name: f for f in ordered}
    positional = len(ordered) == len(result.per_file)
    rollups: dict[Any, set[str]] = {}
    stored: set[tuple[int, str]] = set()
    for k, entry in enumerate(result.per_file):
        mf = ordered[k] if positional else by_name.get(entry.get("file"))
        if mf is None or mf.pixel_id is None:
            continue
        # Two runs on one pixel: the later run's values are that pixel's current ones.
        metrics = {name: m for name, m in entry.get("metrics", {}).items()}
        DerivedMetric.objects.filter(sample=mf.sample_id, name__in=list(metrics), pixel=mf.pixel, superseded=False,
                                     aggregate=Aggregate.VALUE).update(superseded=True)
        DerivedMetric.objects.bulk_create([
            DerivedMetric(name=name, value=m["value"], unit=m.get("unit", ""), flags=m.get("flags", []),
                          scope=MetricScope.PIXEL, sample=mf.sample, device=mf.pixel.device, pixel=mf.pixel,
                          analysis=analysis, method=analysis.method, version=analysis.version)
            for name, m in metrics.items()
        ])
        stored.update((mf.pixel_id, name) for name in metrics)
        rollups.setdefault(mf.pixel.device, set()).update(metrics)
    for device, names in rollups.items():  # once per device, after all its pixels' rows exist
        rollup_device(device, sorted(names))


def rollup_device(device, names: list[str]) -> None:
    """Best pixel and median per metric, with the pixel count, as device-scope rows."""
    pixel_rows = DerivedMetric.objects.filter(device=device, scope=MetricScope.PIXEL, superseded=False, name__in=names,
                                              aggregate=Aggregate.VALUE).select_related("pixel")
    values: dict[str, list[DerivedMetric]] = {}
    for row in pixel_rows:
        values.setdefault(row.name, []).append(row)
    DerivedMetric.objects.filter(device=device, scope=MetricScope.DEVICE, name__in=names,
                                 aggregate__in=[Aggregate.BEST, Aggregate.MEDIAN], superseded=False).update(superseded=True)
    rows = []
    for name, ms in values.items():
        nums = [m.value for m in ms]
        ref = ms[0]
        common = dict(name=name, unit=ref.unit, scope=MetricScope.DEVICE, sample=device.sample, device=device,
                      n_pixels=len(nums), method=ref.method, version=ref.version)
        rows.append(DerivedMetric(value=statistics.median(nums), aggregate=Aggregate.MEDIAN, **common))
        if name not in DESCRIPTIVE:
            best = min(nums) if name in LOWER_IS_BETTER else max(nums)
            best_row = next(m for m in ms if m.value == best)
            rows.append(DerivedMetric(value=best, aggregate=Aggregate.BEST, extra={"pixel": best_row.pixel.label}, **common))
    DerivedMetric.objects.bulk_create(rows)


# Curves kept on the Analysis row so the UI can overlay devices without re-reading raw files.
MAX_STORED_CURVE_POINTS = 400


def _curvesjsonable(arrays: dict[str, Any]) -> dict[str, list[float | None]]:
    """1-D arrays, evenly decimated to ≤ MAX_STORED_CURVE_POINTS; NaN/inf → null (valid JSON)."""
    import numpy as np

    out: dict[str, list[float | None]] = {}
    for name, values in arrays.items():
        a = np.asarray(values, dtype=float)
        if a.ndim != 1:
            continue  # maps (TA) stay in the plots only
        if a.size > MAX_STORED_CURVE_POINTS:
            a = a[np.unique(np.linspace(0, a.size - 1, MAX_STORED_CURVE_POINTS).round().astype(int))]
        out[str(name)] = [float(v) if np.isfinite(v) else None for v in a]
    return out


# --- re-analysis ----------------------------------------------------------------------------------

def measurement_file_reanalyze(mf: MeasurementFile, *, parameters: dict[str, Any] | None = None, kind: str | None = None,
                               column_map: dict | None = None, sample_column: str | None = None,
                               calibrations=None, user=None) -> MeasurementFile:
    """Queue a file again with new settings. The old analysis stays, superseded, once the new one
    is stored. ``parameters`` are merged into the file's (a value of None removes one)."""
    chosen = bool(kind)
    kind = kind or mf.kind
    if kind not in MeasurementKind.values:
        raise IngestError(f"unknown kind {kind!r}; use one of {', '.join(MeasurementKind.values)}", field="kind")
    if kind in NO_ANALYSIS:
        raise IngestError(f"{mf.original_name}: {MeasurementKind(kind).label} files are stored without analysis; "
                          "choose the kind of measurement it is", field="kind")
    merged = {**(mf.parameters or {})}
    for name, value in (parameters or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    spec = get_spec(kind)
    known = {p.name for p in spec.params} | ({"role"} if kind == MeasurementKind.PLQY else set())
    unknown = sorted(set(merged) - known)
    if unknown:
        raise IngestError(f"{', '.join(unknown)}: not a parameter of a {MeasurementKind(kind).label} analysis "
                          f"(known: {', '.join(sorted(known)) or 'none'})", field="parameters")
    types = {p.name: p.type for p in spec.params}
    for name, value in merged.items():
        if name in types:
            try:
                types[name](value)
            except (TypeError, ValueError):
                raise IngestError(f"parameter {name} must be a {types[name].__name__}, got {value!r}",
                                  field="parameters") from None
    calibrations = _check_calibrations(calibrations, mf.original_name) if calibrations is not None else None
    metadata = dict(mf.metadata or {})
    if column_map is not None:
        if column_map:
            metadata["column_map"] = column_map
        else:
            metadata.pop("column_map", None)
    if sample_column is not None:
        if sample_column:
            metadata["sample_column"] = sample_column
        else:
            metadata.pop("sample_column", None)
    if chosen:
        metadata.pop("kind_guess", None)  # a person chose the kind: no longer a guess
    metadata.pop("waiting_for", None)
    metadata.pop("paired_with", None)
    metadata["reanalysis_requested"] = {"at": timezone.now().isoformat(), "by": getattr(user, "username", None)}
    with transaction.atomic():
        updated = MeasurementFile.objects.filter(pk=mf.pk).exclude(status=FileStatus.RUNNING).update(
            kind=kind, parameters=merged, metadata=metadata, status=FileStatus.QUEUED, failure_reason="",
            attempts=0, claimed_by="", enqueued_at=None, updated_at=timezone.now())
        if not updated:
            raise IngestError(f"{mf.original_name} is being analysed right now; re-analyse it once it is done",
                              code="conflict")
        if calibrations is not None:
            mf.calibrations.set(calibrations)
        enqueue(mf.pk)
    mf.refresh_from_db()
    return mf


def measurement_files_reanalyze(*, kind: str | None = None, sample: Sample | None = None,
                                parameters: dict[str, Any] | None = None, file_id: int | None = None) -> dict[str, int]:
    """Re-run every matching file (after a method change), in this process; new metric rows
    supersede the old. ``parameters`` are merged into each file's own first."""
    qs = MeasurementFile.objects.filter(hidden=False).exclude(kind__in=NO_ANALYSIS)
    if file_id is not None:
        qs = qs.filter(pk=file_id)
    if kind:
        qs = qs.filter(kind=kind)
    if sample:
        qs = qs.filter(Q(sample=sample) | Q(sample__in=sample.descendants()))
    counts: dict[str, int] = {}
    for file_id in qs.order_by("created_at", "id").values_list("pk", flat=True):
        if parameters:
            mf = MeasurementFile.objects.get(pk=file_id)
            names = {p.name for p in get_spec(mf.kind).params}
            unknown = sorted(set(parameters) - names)
            if unknown:
                raise IngestError(f"{', '.join(unknown)}: not a parameter of a {mf.get_kind_display()} analysis "
                                  f"(known: {', '.join(sorted(names)) or 'none'})", field="parameters")
            MeasurementFile.objects.filter(pk=file_id).update(parameters={**(mf.parameters or {}), **parameters})
        status = measurement_file_process(file_id, force=True)
        counts[status] = counts.get(status, 0) + 1
    return counts


def analyses_backfill_overlays(*, batch: int = 500, progress=None) -> dict[str, int]:
    """Store Compare's curves (``Analysis.overlay``) on analyses stored before overlays existed,
    from their stored arrays — the curves Compare otherwise thins from those arrays on every page.
    Nothing is re-analysed and no metric changes. Resumable: it walks the analyses still without
    an overlay in id order, ``batch`` at a time, one UPDATE per batch; an analysis whose curves
    cannot be built keeps NULL (logged; Compare goes on thinning its arrays) and is counted as
    ``failed``. ``progress(done, total)`` is called after each batch."""
    pending = Analysis.objects.filter(overlay__isnull=True)
    total = pending.count()
    counts = {"stored": 0, "failed": 0}
    last = 0
    while True:
        rows = list(pending.filter(pk__gt=last).order_by("pk").values_list("pk", "result__arrays")[:batch])
        if not rows:
            break
        last = rows[-1][0]
        built = [(pk, _overlays(arrays if isinstance(arrays, dict) else {}, f"analysis {pk}")) for pk, arrays in rows]
        done = [Analysis(pk=pk, overlay=overlay) for pk, overlay in built if overlay is not None]
        Analysis.objects.bulk_update(done, ["overlay"])
        counts["stored"] += len(done)
        counts["failed"] += len(rows) - len(done)
        if progress is not None:
            progress(counts["stored"] + counts["failed"], total)
    return counts


# --- calibrations ---------------------------------------------------------------------------------

CALIBRATION_SHAPE = "spectrum"  # every calibration is a curve vs wavelength (nm)


def calibration_add(*, instrument: Instrument, role: str, content: bytes, filename: str, valid_from,
                    valid_until=None, notes: str = "", user=None) -> Calibration:
    """Store a calibration curve for an instrument. It must read as a curve vs wavelength; its bytes
    are stored once under their hash like measurement files."""
    if role not in CalibrationRole.values:
        raise IngestError(f"unknown calibration role {role!r}; use one of {', '.join(CalibrationRole.values)}", field="role")
    if not content:
        raise IngestError(f"{filename}: the file is empty", field="file")
    if len(content) > settings.LEDGER_MAX_UPLOAD_BYTES:
        raise IngestError(f"{filename}: over the {settings.LEDGER_MAX_UPLOAD_BYTES / 1e6:.0f} MB limit",
                          code="too_large", field="file")
    if valid_until is not None and valid_from is not None and valid_until <= valid_from:
        raise IngestError("valid until must be after valid from", field="valid_until")
    try:
        parsed = parse_bytes(content, filename=filename, shape=CALIBRATION_SHAPE)
    except UnknownFormat as exc:
        raise IngestError(f"{exc}: a calibration is two columns, wavelength (nm) and value", code="unsupported_media",
                          field="file") from None
    except ParseError as exc:
        raise IngestError(str(exc), field="file") from None
    from .analysis.limits import check_parsed

    try:
        check_parsed(parsed)
    except ParseError as exc:
        raise IngestError(str(exc), field="file") from None
    digest = sha256_of(content)
    name = f"calibrations/{digest[:2]}/{digest[2:4]}/{digest}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(content))
        if saved != name:
            default_storage.delete(saved)
    return Calibration.objects.create(instrument=instrument, role=role, file=name, sha256=digest,
                                      original_name=filename[:255], valid_from=valid_from, valid_until=valid_until,
                                      notes=notes, uploaded_by=user)
