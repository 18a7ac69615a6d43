"""Web pages: the exchange page (exports per project, import, printers), .eln downloads from the
sample page, and 'Print label' for samples and runs with the job's status."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.access import restrict
from core.downloads import csv_response
from samples.models import ProcessRun, Project, Sample

from . import services
from .eln import MEDIA_TYPE, write_eln
from .models import Printer, PrintJobStatus
from .peled_selectors import XLSX, peled_devices_for, peled_table, to_csv, to_xlsx
from .selectors import project_archive, samples_archive, visible_print_jobs


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def exchange_home(request):
    projects = restrict(Project.objects.all(), request.user).order_by("code")
    return render(request, "exchange/home.html", {
        "projects": projects, "printers": Printer.objects.all(),
        "jobs": visible_print_jobs(request.user).order_by("-created_at", "-id")[:20],
    })


@login_required
def project_eln(request, code: str):
    project = get_object_or_404(restrict(Project.objects.all(), request.user), code=code)
    archive = project_archive(project, request.user)
    return _download(write_eln(archive), MEDIA_TYPE, f"{archive.root}.eln")


@login_required
def sample_eln(request, label: str):
    qs = restrict(Sample.objects.filter(label=label), request.user)
    if not qs.exists():
        raise Http404(f"no sample {label}")
    archive = samples_archive(qs, request.user)
    return _download(write_eln(archive), MEDIA_TYPE, f"{archive.root}.eln")


@login_required
def peled(request, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404("PeLED tables come as .csv or .xlsx")
    project = request.GET.get("project") or None
    frame = peled_table(peled_devices_for(request.user, project=project), request.user)
    name = f"peled-{project or 'devices'}"
    if fmt == "xlsx":
        return _download(to_xlsx(frame), XLSX, f"{name}.xlsx")
    return csv_response(to_csv(frame), f"{name}.csv")


@login_required
@require_POST
def eln_import(request):
    upload, code = request.FILES.get("file"), (request.POST.get("project") or "").strip()
    if upload is None or not code:
        messages.error(request, "Choose an .eln file and the project to import it into.")
        return redirect("exchange-home")
    try:
        result = services.eln_import(upload.read(), project_code=code[:32], user=request.user)
    except services.ImportRefused as exc:
        messages.error(request, f"{upload.name}: not imported — {exc}")
        return redirect("exchange-home")
    return render(request, "exchange/import_result.html", {"result": result, "filename": upload.name, "project": code})


def _target(request, kind: str, key: str):
    if kind == "sample":
        return get_object_or_404(restrict(Sample.objects.all(), request.user), label=key), None
    if kind != "run" or not key.isdigit() or int(key) > 2**63 - 1:
        raise Http404("no such run")
    run = get_object_or_404(restrict(ProcessRun.objects.select_related("recipe_version__recipe", "operator"), request.user), pk=int(key))
    return None, run


@login_required
def print_label(request, kind: str, key: str):
    sample, run = _target(request, kind, key)
    target = sample or run
    printers = Printer.objects.filter(enabled=True)
    if request.method == "POST":
        printer = printers.filter(pk=request.POST.get("printer") or 0).first() if (request.POST.get("printer") or "").isdigit() else None
        if printer is None:
            messages.error(request, "Choose a printer.")
        else:
            try:
                job = services.print_label(printer=printer, sample=sample, run=run, user=request.user)
            except ValidationError as exc:
                messages.error(request, "; ".join(exc.messages))
            else:
                return redirect("print-job", pk=job.pk)
    jobs = visible_print_jobs(request.user).filter(**({"sample": sample} if sample else {"run": run})).order_by("-created_at")[:10]
    return render(request, "exchange/print.html", {"target": target, "kind": kind, "printers": printers, "jobs": jobs,
                                                   "back": target.get_absolute_url()})


@login_required
def print_job(request, pk: int):
    job = get_object_or_404(visible_print_jobs(request.user), pk=pk)
    target = job.sample or job.run
    return render(request, "exchange/job.html", {"job": job, "target": target, "refresh": job.status == PrintJobStatus.QUEUED})
