"""Writes for measurement files: ingest (store once by sha256, queue) and process (claim, parse,
analyse, store versioned metrics and plots, set a terminal status).

The Celery task in ``tasks.py`` only calls ``measurement_file_process``; views, the API, the
CLI and load_demo only call ``measurement_file_ingest``.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core import events
from core.access import can_see
from core.errors import DomainError
from devices.models import Pixel
from samples.models import Sample, SampleKind

from .analysis.base import AnalysisError, AnalysisResult, jsonable
from .analysis.plotting import render
from .analysis.registry import get_spec, run
from .models import (
    Aggregate,
    Analysis,
    DerivedMetric,
    FileStatus,
    Instrument,
    MeasurementFile,
    MeasurementKind,
    MetricScope,
    Plot,
)
from .parsers import ParseError, UnknownFormat, parse_bytes

log = logging.getLogger(__name__)

# Metrics where a lower value is better (the device roll-up's "best" takes the minimum).
LOWER_IS_BETTER = {"turn_on_voltage"}
# Descriptive metrics: a "best" pixel makes no sense, only the median is rolled up.
DESCRIPTIVE = {"el_peak_wavelength", "el_fwhm", "cie_x", "cie_y", "initial_luminance", "pl_peak_wavelength",
               "pl_peak_energy", "pl_fwhm", "j_at_eqe_max", "pl_band_count"}
# The kind an upload gets from its parsed shape when the uploader named none (spectra: guess_kind).
SHAPE_TO_KIND = {"jlv": "jlv", "lifetime": "lifetime", "decay": "trpl", "xrd": "xrd", "ta_matrix": "ta",
                 "absorbance": "absorbance", "jv": "jlv"}


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


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def guess_kind(shape: str, *, pixel: Pixel | None, sample: Sample) -> str:
    """Kind from the parsed shape and the target: a spectrum on a pixel or device is EL,
    on anything else PL."""
    if shape == "spectrum":
        return MeasurementKind.EL if pixel is not None or sample.kind == SampleKind.DEVICE else MeasurementKind.PL
    kind = SHAPE_TO_KIND.get(shape)
    if kind is None:
        raise IngestError(f"cannot tell the measurement kind of a {shape} file; give kind", code="unsupported")
    return kind


def resolve_target(label: str) -> tuple[Sample, Pixel | None]:
    """A sample label (DEV-0001) or a pixel label (DEV-0001-A)."""
    pixel = Pixel.objects.select_related("device__sample").filter(label=label).first()
    if pixel:
        return pixel.device.sample, pixel
    sample = Sample.objects.filter(label=label).first()
    if sample is None:
        raise IngestError(f"no sample or pixel labelled {label!r}", code="not_found", field="sample")
    return sample, None


def measurement_file_ingest(*, content: bytes, filename: str, sample: Sample, pixel: Pixel | None = None,
                            kind: str | None = None, instrument: Instrument | None = None, user=None,
                            measured_at=None, metadata: dict | None = None,
                            parameters: dict | None = None) -> IngestResult:
    """Store the bytes once (content-addressed), create the row, queue the analysis on commit."""
    if not content:
        raise IngestError(f"{filename}: the file is empty", field="file")
    if len(content) > settings.LEDGER_MAX_UPLOAD_BYTES:
        raise IngestError(f"{filename}: {len(content) / 1e6:.1f} MB is over the "
                          f"{settings.LEDGER_MAX_UPLOAD_BYTES / 1e6:.0f} MB limit", code="too_large", field="file")
    if pixel is not None and pixel.device.sample_id != sample.pk:
        raise IngestError(f"pixel {pixel.label} does not belong to {sample.label}", field="pixel")
    digest = sha256_of(content)
    existing = MeasurementFile.objects.filter(sha256=digest).select_related("sample", "pixel").first()
    if existing is not None:
        if existing.sample_id == sample.pk and existing.pixel_id == (pixel.pk if pixel else None):
            return IngestResult(existing, created=False)
        if user is not None and not can_see(existing, user):
            # Never name another project's file or sample (sha256 is unique lab-wide).
            raise IngestError(f"{filename}: these bytes were already uploaded to a sample you cannot see",
                              code="conflict", field="file")
        raise IngestError(f"these bytes were already uploaded as {existing.original_name!r} for "
                          f"{existing.target_label} (file {existing.pk})", code="conflict", field="file")
    if kind and kind not in MeasurementKind.values:
        raise IngestError(f"unknown kind {kind!r}; use one of {', '.join(MeasurementKind.values)}", field="kind")
    fmt = ""
    if not kind and content.startswith(IMAGE_MAGIC):
        kind = MeasurementKind.IMAGE  # GIWAXS frames, micrographs: stored and shown, not parsed
    if kind not in (MeasurementKind.IMAGE, MeasurementKind.OTHER):
        # Sniff now so an unreadable file is refused at the door (API: 415) rather than queued.
        try:
            parsed = parse_bytes(content, filename=filename)
        except UnknownFormat as exc:
            raise IngestError(str(exc), code="unsupported_media", field="file") from None
        except ParseError:
            parsed = None  # recognised but broken: store it and let the analysis report the reason
        if parsed is not None:
            fmt = parsed.format
            kind = kind or guess_kind(parsed.shape, pixel=pixel, sample=sample)
        elif not kind:
            kind = MeasurementKind.OTHER
    status = FileStatus.STORED if kind in (MeasurementKind.IMAGE, MeasurementKind.OTHER) else FileStatus.QUEUED
    with transaction.atomic():
        name = f"measurements/{digest[:2]}/{digest[2:4]}/{digest}"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(content))
        mf = MeasurementFile.objects.create(
            file=name, sha256=digest, original_name=filename[:255], size_bytes=len(content), kind=kind, format=fmt,
            instrument=instrument, uploaded_by=user, sample=sample, pixel=pixel, measured_at=measured_at,
            metadata=metadata or {}, parameters=parameters or {}, status=status)
        if status == FileStatus.QUEUED:
            enqueue(mf.pk)
    return IngestResult(mf, created=True)


def enqueue(file_id: int) -> None:
    # By name through the Celery app, so services never import tasks (tasks import services);
    # MeasurementsConfig.ready imports tasks, so the name is registered in every process.
    from celery import current_app

    task = current_app.tasks["measurements.tasks.analyze_measurement_file"]
    transaction.on_commit(lambda: task.delay(file_id))


# --- processing ------------------------------------------------------------------------------

def claim(file_id: int, *, force: bool = False) -> bool:
    """Take the file for processing with one conditional UPDATE, so two workers never run it twice.
    A file stuck in ``running`` past the timeout is taken again."""
    stale = timezone.now() - timedelta(seconds=settings.LEDGER_ANALYSIS_TIMEOUT_S)
    claimable = Q(status=FileStatus.QUEUED) | Q(status=FileStatus.RUNNING, started_at__lt=stale)
    if force:
        claimable |= Q(status__in=[FileStatus.DONE, FileStatus.FAILED])
    return bool(MeasurementFile.objects.filter(claimable, pk=file_id).update(
        status=FileStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, failure_reason=""))


def _finish(mf: MeasurementFile, status: str, reason: str = "", **meta: Any) -> None:
    mf.status, mf.failure_reason, mf.finished_at = status, reason[:2000], timezone.now()
    fields = ["status", "failure_reason", "finished_at", "updated_at"]
    if meta:
        mf.metadata = {**mf.metadata, **meta}
        fields.append("metadata")
    mf.save(update_fields=fields)
    events.emit(f"analysis.{status}", file_id=mf.pk)  # done/failed: webhooks and others hear of it on commit


def requeue(file_id: int) -> None:
    """Put a claimed file back in the queue (transient error; Celery retries)."""
    MeasurementFile.objects.filter(pk=file_id, status=FileStatus.RUNNING).update(status=FileStatus.QUEUED)


def fail_after_retries(file_id: int, exc: Exception, *, attempts: int) -> None:
    MeasurementFile.objects.filter(pk=file_id).exclude(status=FileStatus.DONE).update(
        status=FileStatus.FAILED, finished_at=timezone.now(),
        failure_reason=f"gave up after {attempts} attempts ({type(exc).__name__}: {exc}); re-run it with reanalyze")


def fail_stale_files() -> int:
    """Files running past twice the timeout are failed with a reason (worker died hard)."""
    cutoff = timezone.now() - timedelta(seconds=2 * settings.LEDGER_ANALYSIS_TIMEOUT_S)
    return MeasurementFile.objects.filter(status=FileStatus.RUNNING, started_at__lt=cutoff).update(
        status=FileStatus.FAILED, finished_at=timezone.now(),
        failure_reason="the analysis did not finish (worker stopped); re-run it with reanalyze")


def _read(mf: MeasurementFile) -> bytes:
    with mf.file.open("rb") as fh:
        return fh.read()


def _siblings(mf: MeasurementFile, kind: str) -> list[MeasurementFile]:
    """Other usable files of ``kind`` on the same target, newest first."""
    qs = MeasurementFile.objects.filter(kind=kind, hidden=False).exclude(status=FileStatus.FAILED)
    qs = qs.filter(pixel=mf.pixel) if mf.pixel_id else qs.filter(sample=mf.sample, pixel__isnull=True)
    return list(qs.order_by("-created_at", "-id"))


def _params_for(mf: MeasurementFile, kind: str) -> dict[str, Any]:
    spec = get_spec(kind)
    names = {p.name for p in spec.params}
    params: dict[str, Any] = {}
    if "pixel_area_cm2" in names and mf.pixel_id:
        params["pixel_area_cm2"] = mf.pixel.area_cm2
    if "wavelength_a" in names and mf.instrument_id and mf.instrument.xray_wavelength_a:
        params["wavelength_a"] = mf.instrument.xray_wavelength_a
    if mf.instrument_id:
        params.update({k: v for k, v in (mf.instrument.settings or {}).items() if k in names})
    params.update({k: v for k, v in (mf.parameters or {}).items() if k in names})
    return params


@dataclass
class Plan:
    """What to analyse once a file is readable: the kind, its inputs by role, the files used."""

    kind: str
    files: dict[str, list[MeasurementFile]]
    waiting_for: str = ""


def _plan(mf: MeasurementFile) -> Plan:
    kind = mf.kind
    if kind == MeasurementKind.JLV:
        spectra = _siblings(mf, MeasurementKind.EL)
        if not spectra:
            return Plan(kind, {"jlv": [mf]}, waiting_for="the EL spectrum of this pixel (EQE needs it)")
        return Plan(kind, {"jlv": [mf], "el": spectra[:1]})
    if kind == MeasurementKind.EL:
        # Paired by pixel: a spectrum arriving after its J-L-V (or a newer spectrum) re-runs the pair.
        sweeps = _siblings(mf, MeasurementKind.JLV)
        if sweeps:
            return Plan(MeasurementKind.JLV, {"jlv": sweeps[:1], "el": [mf]})
        return Plan(kind, {_first_role(kind): [mf]})
    if kind == MeasurementKind.LIFETIME:
        # Every lifetime run of the device goes into the acceleration fit L0^n·T50 = C.
        qs = MeasurementFile.objects.filter(kind=kind, sample=mf.sample, hidden=False).exclude(
            status=FileStatus.FAILED).exclude(pk=mf.pk).order_by("created_at", "id")
        return Plan(kind, {_first_role(kind): [*qs, mf]})
    if kind == MeasurementKind.PLQY:
        role = (mf.metadata or {}).get("role") or (mf.parameters or {}).get("role")
        roles = {r.name for r in get_spec(kind).roles}
        if role not in roles:
            raise AnalysisError(f"a PLQY file needs metadata role = one of {', '.join(sorted(roles))}")
        files: dict[str, list[MeasurementFile]] = {role: [mf]}
        siblings = MeasurementFile.objects.filter(kind=kind, sample=mf.sample, hidden=False).exclude(
            status=FileStatus.FAILED).exclude(pk=mf.pk).order_by("-created_at")
        for other in siblings:
            other_role = (other.metadata or {}).get("role")
            if other_role in roles and other_role not in files:
                files[other_role] = [other]
        missing = [r.name for r in get_spec(kind).roles if r.required and r.name not in files]
        if missing:
            return Plan(kind, files, waiting_for=f"the {', '.join(missing)} spectrum")
        return Plan(kind, files)
    return Plan(kind, {_first_role(kind): [mf]})


def _own_shape(mf: MeasurementFile) -> str | None:
    spec = get_spec(mf.kind)
    role_name = (mf.metadata or {}).get("role") if mf.kind == MeasurementKind.PLQY else None
    role = next((r for r in spec.roles if r.name == role_name), None) or next(
        (r for r in spec.roles if r.name == mf.kind), spec.roles[0])
    return role.shapes[0] if len(role.shapes) == 1 else None


def _first_role(kind: str) -> str:
    return get_spec(kind).roles[0].name


def analyze_files(kind: str, files: dict[str, list[MeasurementFile]], params: dict[str, Any]) -> AnalysisResult:
    raw = {role: [(f.original_name, _read(f)) for f in fs] for role, fs in files.items()}
    return run(kind, raw, params)


def measurement_file_process(file_id: int, *, force: bool = False) -> str:
    """Claim → parse/analyse → store → terminal status. Returns the final status.

    ParseError/AnalysisError fail the file at once with their reason; anything else is treated
    as transient by the task (retried with backoff) after the file is put back in the queue."""
    if not claim(file_id, force=force):
        return MeasurementFile.objects.filter(pk=file_id).values_list("status", flat=True).first() or "missing"
    mf = MeasurementFile.objects.select_related("sample", "pixel__device", "instrument").get(pk=file_id)
    try:
        # Parse this file on its own first, as what its kind needs (a solar-cell J-V uploaded as
        # jlv fails here with "no luminance or photodiode column"), so its failure names this file.
        parsed = parse_bytes(_read(mf), filename=mf.original_name, shape=_own_shape(mf))
        plan = _plan(mf)
        if plan.waiting_for:
            _finish(mf, FileStatus.DONE, format=parsed.format, waiting_for=plan.waiting_for)
            mf.format = parsed.format
            mf.save(update_fields=["format"])
            return FileStatus.DONE
        params = _params_for(mf, plan.kind)
        result = analyze_files(plan.kind, plan.files, params)
        # Several lifetime runs make one device-level fit (n, T50 at 100 cd/m²); per-run values go
        # to each run's pixel in store_analysis.
        pixel = None if plan.kind == MeasurementKind.LIFETIME and len(result.per_file) > 1 else mf.pixel
        with transaction.atomic():
            store_analysis(plan.kind, result, plan.files, sample=mf.sample, pixel=pixel)
            mf.format = parsed.format
            mf.save(update_fields=["format"])
            _finish(mf, FileStatus.DONE, waiting_for="")
    except (ParseError, AnalysisError) as exc:
        _finish(mf, FileStatus.FAILED, str(exc))
        return FileStatus.FAILED
    except FileNotFoundError:
        # Not transient: the stored bytes are gone (storage misconfigured or restored wrongly).
        _finish(mf, FileStatus.FAILED, f"the stored file {mf.file.name} is missing from storage")
        return FileStatus.FAILED
    except (DatabaseError, OSError):
        raise  # transient: the task requeues and retries
    except Exception as exc:  # a bug must not leave the file "running" or invent a number
        log.exception("analysis of measurement file %s crashed", file_id)
        _finish(mf, FileStatus.FAILED, f"internal error while analysing ({type(exc).__name__}: {exc}); "
                                       "the file is kept — report it with this message")
        return FileStatus.FAILED
    return FileStatus.DONE


def store_analysis(kind: str, result: AnalysisResult, files: dict[str, list[MeasurementFile]], *,
                   sample: Sample, pixel: Pixel | None) -> Analysis:
    """Store an analysis, its metrics and plots; older current metrics of the same names on the
    same target are marked superseded (never deleted)."""
    sources = [f for fs in files.values() for f in fs]
    analysis = Analysis.objects.create(
        kind=kind, method=result.method, version=result.version, parameters=jsonable(result.parameters),
        sample=sample, pixel=pixel, warnings=list(result.warnings),
        result={"per_file": jsonable(result.per_file), "metrics": jsonable(result.metrics_json()),
                "arrays": _curvesjsonable(result.arrays)})
    analysis.sources.set(sources)
    device = pixel.device if pixel else getattr(sample, "device", None)
    scope = MetricScope.PIXEL if pixel else MetricScope.DEVICE if device else MetricScope.SAMPLE
    names = list(result.metrics)
    older = Analysis.objects.filter(sample=sample, pixel=pixel, kind=kind, superseded=False).exclude(pk=analysis.pk)
    # Same names on the same target, and everything the older analyses of this kind gave (a metric
    # the new method no longer reports must not stay current).
    DerivedMetric.objects.filter(Q(name__in=names, sample=sample, pixel=pixel) | Q(analysis__in=older),
                                 superseded=False, aggregate=Aggregate.VALUE).update(superseded=True)
    older.update(superseded=True)
    DerivedMetric.objects.bulk_create([
        DerivedMetric(name=m.name, value=m.value, unit=m.unit, uncertainty=m.uncertainty, flags=list(m.flags),
                      extra=jsonable(m.extra), scope=scope, sample=sample, device=device, pixel=pixel,
                      analysis=analysis, method=result.method, version=result.version)
        for m in result.metrics.values()
    ])
    _store_per_file_metrics(result, files, analysis)
    spec = get_spec(kind)
    if spec.plot is not None:
        for name, fig in spec.plot(result).items():
            title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else name.replace("_", " ")
            Plot.objects.create(analysis=analysis, name=name, title=title, svg=render(fig, "svg").decode(),
                                png=render(fig, "png", dpi=150))
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
    for k, entry in enumerate(result.per_file):
        mf = ordered[k] if positional else by_name.get(entry.get("file"))
        if mf is None or mf.pixel_id is None:
            continue
        names = list(entry.get("metrics", {}))
        DerivedMetric.objects.filter(name__in=names, pixel=mf.pixel, superseded=False,
                                     aggregate=Aggregate.VALUE).update(superseded=True)
        DerivedMetric.objects.bulk_create([
            DerivedMetric(name=name, value=m["value"], unit=m.get("unit", ""), flags=m.get("flags", []),
                          scope=MetricScope.PIXEL, sample=mf.sample, device=mf.pixel.device, pixel=mf.pixel,
                          analysis=analysis, method=analysis.method, version=analysis.version)
            for name, m in entry["metrics"].items()
        ])
        rollups.setdefault(mf.pixel.device, set()).update(names)
    for device, names in rollups.items():  # once per device, after all its pixels' rows exist
        rollup_device(device, sorted(names))


def rollup_device(device, names: list[str]) -> None:
    """Best pixel and median per metric, with the pixel count, as device-scope rows."""
    pixel_rows = DerivedMetric.objects.filter(device=device, scope=MetricScope.PIXEL, superseded=False, name__in=names)
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


def measurement_files_reanalyze(*, kind: str | None = None, sample: Sample | None = None) -> dict[str, int]:
    """Re-run every matching file (after a method change); new metric rows supersede the old."""
    qs = MeasurementFile.objects.filter(hidden=False).exclude(kind__in=[MeasurementKind.IMAGE, MeasurementKind.OTHER])
    if kind:
        qs = qs.filter(kind=kind)
    if sample:
        qs = qs.filter(Q(sample=sample) | Q(sample__in=sample.descendants()))
    counts: dict[str, int] = {}
    for file_id in qs.order_by("created_at", "id").values_list("pk", flat=True):
        status = measurement_file_process(file_id, force=True)
        counts[status] = counts.get(status, 0) + 1
    return counts

