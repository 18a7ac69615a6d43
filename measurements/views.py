"""Measurement pages: upload (XHR per file, plain form fallback), live status, detail, list,
compare. Views validate → call a service or selector → render; access goes through restrict()."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods

from core.access import restrict
from core.pagination import EstimatedPaginator as Paginator
from devices.selectors import pixel_for_filename

from . import selectors
from .filtersets import MeasurementFileFilterSet
from .forms import CompareForm, ReanalysisForm, UploadForm, analysis_parameter_help
from .models import FileStatus, MeasurementFile
from .services import IngestError, measurement_file_ingest, measurement_file_reanalyze, plot_image

# IngestError.code → HTTP status for the XHR upload (same mapping idea as the API).
INGEST_STATUS = {"not_found": 404, "conflict": 409, "unsupported_media": 415, "too_large": 413}
MAX_POLL_IDS = 100
MAX_PK = 2**63 - 1  # BigAutoField; a larger id cannot exist, and `pk__in` would overflow the driver (500)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _form_errors(form) -> str:
    return " ".join(f"{'' if f == '__all__' else form.fields[f].label + ': '}{e}" for f, es in form.errors.items() for e in es)


def _device_pixels(form: UploadForm, request: HttpRequest) -> list:
    """The target's pixels when it is a device: the bound form's, or the prefilled target's."""
    if form.is_bound:
        return form.device_pixels()
    probe = UploadForm({"target": form.initial.get("target", "")}, user=request.user)
    probe.is_valid()
    return probe.device_pixels()


@login_required
@require_GET
def upload_pixels(request: HttpRequest) -> JsonResponse:
    """GET ?target=DEV-0001&name=a.csv&name=b.csv → the device's pixels and the one each file name
    names (devices.selectors.pixel_for_filename, what the server would take), for upload.js's
    per-file pixel picker. A target that is not a device with pixels has none."""
    form = UploadForm({"target": request.GET.get("target", "")}, user=request.user)
    form.is_valid()  # only the target matters here
    if form.errors.get("target"):
        return JsonResponse({"error": " ".join(form.errors["target"])}, status=404)
    pixels = form.device_pixels()
    guesses = {}
    if pixels:
        device = pixels[0].device
        for name in request.GET.getlist("name")[:MAX_POLL_IDS]:
            pixel, why = pixel_for_filename(device, name)
            guesses[name] = {"pixel": pixel.name if pixel else "", "why": why if pixel is None else ""}
    return JsonResponse({"pixels": [{"name": p.name, "label": p.label} for p in pixels], "files": guesses})


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """One POST per file from upload.js (progress bars need one request each); a browser without
    JS posts all files at once and gets the page back with a row per file, polled the same way."""
    rows, errors = [], []
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, user=request.user)
        files = request.FILES.getlist("file")
        if not files:
            form.add_error(None, "Choose at least one file.")
        if form.is_valid():
            for upload_ in files:
                try:
                    result = measurement_file_ingest(
                        content=upload_, filename=upload_.name, sample=form.sample, pixel=form.pixel,
                        kind=form.cleaned_data["kind"] or None, instrument=form.cleaned_data["instrument"],
                        user=request.user, parameters=form.cleaned_data["parameters"],
                        calibrations=[c] if (c := form.cleaned_data["calibration"]) else None,
                        metadata={"uploaded_via": "web"})
                except IngestError as exc:
                    if _wants_json(request):
                        return JsonResponse({"error": str(exc), "code": exc.code, "field": exc.field},
                                            status=INGEST_STATUS.get(exc.code, 400))
                    errors.append(f"{upload_.name}: {exc}")
                    continue
                if _wants_json(request):
                    mf = result.file
                    return JsonResponse({"id": mf.pk, "created": result.created, "status": mf.status,
                                         "url": mf.get_absolute_url(), "name": mf.original_name,
                                         "target": mf.target_label}, status=201 if result.created else 200)
                rows.append(result.file.pk)
        elif _wants_json(request):
            return JsonResponse({"error": _form_errors(form), "fields": form.errors}, status=400)
    else:
        form = UploadForm(initial={"target": request.GET.get("target", "")}, user=request.user)
    context = {
        "form": form, "device_pixels": _device_pixels(form, request),
        "rows": selectors.files_status(rows, request.user) if rows else [],
        "errors": errors,
        "parameter_help": analysis_parameter_help(),
    }
    return render(request, "measurements/upload.html", context)


@login_required
@require_GET
def status(request: HttpRequest) -> JsonResponse:
    """Polled every second by the upload page: ?ids=1,2,3 → status, reason, metrics, result HTML.
    In production a Celery worker finishes the file; in embedded mode it is usually done already."""
    try:
        ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.strip()][:MAX_POLL_IDS]
    except ValueError:
        return JsonResponse({"error": "ids must be comma-separated integers"}, status=400)
    ids = [i for i in ids if 0 < i <= MAX_PK]
    out = []
    for row in selectors.files_status(ids, request.user):
        mf, analysis = row["file"], row["analysis"]
        out.append({
            "id": mf.pk, "status": mf.status, "status_display": mf.get_status_display(),
            "failure_reason": mf.failure_reason, "waiting_for": row["waiting_for"], "settled": row["settled"],
            "kind": mf.get_kind_display(), "format": mf.format, "url": mf.get_absolute_url(),
            "analysis": analysis.pk if analysis else None,
            # Part of the client's "has this changed?" key, so a row rendered mid-store catches up.
            "n_charts": len((analysis.result or {}).get("charts", [])) if analysis else 0,
            "metrics": {m.name: {"value": m.value, "unit": m.unit} for m in row["metrics"]},
            # Rendered once the file settles, so the page shows the same markup as the detail page.
            "html": render_to_string("measurements/_file_result.html", {"row": row}, request) if row["settled"] else "",
        })
    return JsonResponse({"files": out})


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        mf = selectors.file_detail(pk, request.user)
    except ObjectDoesNotExist:
        raise Http404("No such measurement file") from None
    analyses = selectors.file_analyses(mf)
    current = [a for a in analyses if not a.superseded]
    context = {
        "mf": mf,
        "current": [{"analysis": a, "metrics": selectors.analysis_metric_rows(a)} for a in current],
        "superseded": [{"analysis": a, "metrics": selectors.analysis_metric_rows(a)} for a in analyses if a.superseded],
        "waiting_for": (mf.metadata or {}).get("waiting_for", "") if not current else "",
        "settled": mf.status in selectors.TERMINAL,
        "reanalysis_form": ReanalysisForm(initial={"sample_column": (mf.metadata or {}).get("sample_column", "")}),
        "can_reanalyze": mf.status != FileStatus.RUNNING and mf.kind != "image",
    }
    return render(request, "measurements/detail.html", context)


@login_required
@require_http_methods(["POST"])
def reanalyze(request: HttpRequest, pk: int) -> HttpResponse:
    """The Re-analyse button: queue the file again with the form's settings, back to its page."""
    from django.contrib import messages
    from django.shortcuts import redirect

    try:
        mf = selectors.file_detail(pk, request.user)
    except ObjectDoesNotExist:
        raise Http404("No such measurement file") from None
    form = ReanalysisForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            measurement_file_reanalyze(
                mf, parameters=data["parameters"], kind=data["kind"] or None, column_map=data["column_map"],
                sample_column=data["sample_column"] if data["sample_column"] else None,
                calibrations=[data["calibration"]] if data["calibration"] else None, user=request.user)
        except IngestError as exc:
            messages.error(request, f"{mf.original_name}: {exc}")
        else:
            messages.success(request, f"{mf.original_name} is queued for a new analysis; the current one stays "
                                      "until it is replaced, then is kept as superseded.")
    else:
        messages.error(request, f"Re-analyse: {_form_errors(form)}")
    return redirect(mf.get_absolute_url())


@login_required
@require_GET
def download(request: HttpRequest, pk: int) -> FileResponse:
    """The raw bytes under their original name (media are not served publicly: access is checked)."""
    try:
        mf = selectors.file_detail(pk, request.user)
    except ObjectDoesNotExist:
        raise Http404("No such measurement file") from None
    return FileResponse(mf.file.open("rb"), as_attachment=True, filename=mf.original_name)


@login_required
@require_GET
def image_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A stored image (e.g. a GIWAXS frame) as a PNG the browser can show."""
    from .images import ImageTooLarge, NotAnImage, preview_png

    try:
        mf = selectors.file_detail(pk, request.user)
    except ObjectDoesNotExist:
        raise Http404("No such measurement file") from None
    with mf.file.open("rb") as fh:
        try:
            png = preview_png(fh.read())
        except ImageTooLarge as exc:
            return HttpResponse(f"{mf.original_name}: {exc}", status=422, content_type="text/plain; charset=utf-8")
        except NotAnImage as exc:
            raise Http404(str(exc)) from None
    return HttpResponse(png, content_type="image/png")


@login_required
@require_GET
def figure(request: HttpRequest, pk: int, name: str, fmt: str) -> HttpResponse:
    """One stored chart of an analysis as PNG or SVG (a download, a slide): drawn by matplotlib on
    the first request and cached (services.plot_image); the pages draw the same chart in the browser."""
    try:
        analysis = selectors.analysis_for_figure(pk, request.user)
        image = plot_image(analysis, name, fmt)
    except (ObjectDoesNotExist, LookupError):
        raise Http404("No such figure") from None
    response = HttpResponse(image, content_type="image/png" if fmt == "png" else "image/svg+xml")
    label = analysis.pixel.label if analysis.pixel_id else analysis.sample.label
    response["Content-Disposition"] = f'inline; filename="{label}-{analysis.kind}-{name}.{fmt}"'
    # A stored analysis's chart never changes (a re-analysis is a new analysis, a new URL).
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_GET
def file_list(request: HttpRequest) -> HttpResponse:
    qs = restrict(MeasurementFile.objects.filter(hidden=False), request.user).select_related(
        "sample", "pixel", "uploaded_by", "instrument")
    filterset = MeasurementFileFilterSet(request.GET, queryset=qs)
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "measurements/list.html", {"filter": filterset, "page": page, "query": query.urlencode(),
                                                      "export_samples": [request.GET.get("sample", "").strip()]})


@login_required
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    form = CompareForm(request.GET or None, user=request.user)
    context: dict = {"form": form, "samples": [], "chart_data": None, "pick_limit": selectors.COMPARE_PICKS}
    valid = form.is_bound and form.is_valid()
    chosen = list(form.cleaned_data.get("samples") or []) if valid else []
    # Ticked first, then the newest candidates: never every device of a decade as a tick box.
    context.update({"pick_list": selectors.compare_pick_list(request.user, chosen), "chosen_ids": {s.pk for s in chosen}})
    if valid:
        samples = form.selected_samples()
        colors = selectors.sample_colors(samples)
        names, rows, units = selectors.metrics_table(samples)
        x, y = form.cleaned_data.get("x"), form.cleaned_data.get("y")
        scatter = selectors.scatter(samples, x, y) if samples and x and y else None
        context.update({
            "samples": samples, "colors": colors, "metric_names": names, "metric_rows": rows, "units": units,
            "scatter": scatter,
            "chart_data": {"panels": [selectors.panel_data(p) for p in selectors.compare_curves(samples, colors)],
                           "scatter": scatter},
        })
    return render(request, "measurements/compare.html", context)
