"""Samples and process runs: lists, detail pages, plan & log a run."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse

from core.access import can_manage_projects, restrict
from core.downloads import csv_response
from core.pagination import EstimatedPaginator as Paginator
from core.pagination import annotate_rows
from recipes.models import RecipeVersion

from . import services
from .filtersets import ProcessRunFilterSet, SampleFilterSet
from .forms import ProjectForm, RunForm, SampleEditForm, input_choice_label, rows_from_run, rows_from_version
from .lineage import sample_lineage
from .models import ProcessRun, Project, RunStatus, RunValue, Sample, SampleKind
from .panels import sample_panels_context
from .selectors import input_candidates

PAGE_SIZE = 25


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def upload_url(label: str) -> str:
    try:
        base = reverse("measurement-upload")
    except NoReverseMatch:  # provided by the measurements UI; keep the link stable meanwhile
        base = "/measurements/upload/"
    return f"{base}?target={label}"


# --- samples ------------------------------------------------------------------------------

def _sample_filterset(request):
    # The project choices are narrowed to the user's own by the filterset (it needs the request).
    return SampleFilterSet(request.GET or None, queryset=restrict(Sample.objects.all(), request.user), request=request)


@login_required
def sample_list(request):
    fs = _sample_filterset(request)
    qs = fs.qs if fs.is_bound else fs.queryset
    qs = qs.select_related("project", "owner", "produced_by__recipe_version__recipe").order_by("-created_at", "-id")
    if request.GET.get("format") == "csv":
        return _samples_csv(qs)
    page, query = _page(request, qs)
    csv_query = request.GET.copy()
    csv_query.pop("page", None)
    csv_query["format"] = "csv"
    return render(request, "samples/sample_list.html", {
        "filter": fs, "page": page, "query": query, "csv_query": csv_query.urlencode(),
    })


def _samples_csv(qs) -> HttpResponse:
    response = csv_response(b"", "samples.csv")  # with the UTF-8 BOM, for Excel (core.downloads)
    writer = csv.writer(response)
    writer.writerow(["label", "kind", "name", "status", "project", "recipe", "recipe_version", "run", "owner",
                     "location", "created_at"])
    for s in qs.iterator(chunk_size=500):
        run = s.produced_by
        writer.writerow([s.label, s.kind, s.name, s.status, s.project.code,
                         run.recipe_version.recipe.name if run else "", run.recipe_version.number if run else "",
                         run.label if run else "", s.owner.get_username() if s.owner else "", s.location,
                         s.created_at.isoformat()])
    return response


@login_required
def sample_detail(request, label):
    sample = get_object_or_404(
        restrict(Sample.objects.select_related("project", "owner", "produced_by__recipe_version__recipe",
                                               "produced_by__operator"), request.user),
        label=label)
    lineage = sample_lineage(sample, request.user)
    lineage_ids = [n.pk for n in lineage.nodes if lineage.depth[n.pk] <= 0]
    processes = (restrict(ProcessRun.objects.filter(outputs__in=lineage_ids), request.user)
                 .select_related("recipe_version__recipe", "operator")
                 .annotate(n_dev=Count("values", filter=Q(values__is_deviation=True)))
                 .order_by("finished_at", "created_at").distinct())
    history = list(sample.history.select_related("history_user").order_by("-history_date", "-history_id")[:50])
    audit = []
    # A record loaded without history rows (a bulk import) has none: nothing to pair.
    for newer, older in zip(history, [*history[1:], None][:len(history)], strict=True):
        changes = []
        if older is not None:
            changes = [(c.field, c.old, c.new) for c in newer.diff_against(older).changes]
        audit.append({"record": newer, "changes": changes})
    device = getattr(sample, "device", None) if sample.kind == "device" else None
    return render(request, "samples/sample_detail.html", {
        "sample": sample, "lineage": lineage, "processes": processes,
        "audit": audit, "device": device, "upload_url": upload_url(sample.label),
        "sample_url": request.build_absolute_uri(sample.get_absolute_url()),
        # The measurement panel (files, plots, metrics) comes from the layer above: portal.panels.
        **sample_panels_context(request, sample),
    })


@login_required
def sample_edit(request, label):
    sample = get_object_or_404(restrict(Sample.objects.select_related("project"), request.user), label=label)
    initial = {f: getattr(sample, f) for f in services.SAMPLE_EDIT_FIELDS}
    form = SampleEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.sample_update(sample, **{f: form.cleaned_data[f] for f in services.SAMPLE_EDIT_FIELDS})
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"{sample.label} saved.")
            return redirect(sample)
    return render(request, "samples/sample_edit.html", {"sample": sample, "form": form})


# --- projects -----------------------------------------------------------------------------

@login_required
def project_list(request):
    """The projects one is in (a lab manager: every project, with the buttons to make and edit them)."""
    manager = can_manage_projects(request.user)
    projects = Project.objects.all() if manager else request.user.ledger_projects.all()
    projects = projects.annotate(n_members=Count("members", distinct=True)).order_by("code")
    return render(request, "samples/project_list.html", {"projects": projects, "manager": manager})


@login_required
def project_edit(request, code: str | None = None):
    if not can_manage_projects(request.user):
        raise PermissionDenied("Projects are created and their members chosen by a lab manager (a staff account).")
    project = get_object_or_404(Project, code=code) if code else None
    initial = ({"code": project.code, "name": project.name, "description": project.description,
                "members": list(project.members.all())} if project else {"members": [request.user]})
    form = ProjectForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.project_save(project, code=data["code"], name=data["name"],
                                          description=data["description"], members=data["members"])
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"Project {saved.code} saved ({saved.members.count()} members).")
            return redirect("project-list")
    return render(request, "samples/project_form.html", {"project": project, "form": form})


# --- runs ---------------------------------------------------------------------------------

@login_required
def run_list(request):
    fs = ProcessRunFilterSet(request.GET or None, queryset=restrict(ProcessRun.objects.all(), request.user),
                             request=request)
    qs = fs.qs if fs.is_bound else fs.queryset
    qs = qs.select_related("recipe_version__recipe", "project", "operator").order_by("-created_at", "-id")
    page, query = _page(request, qs)
    page.object_list = annotate_rows(list(page.object_list), ProcessRun.objects.annotate(
        n_dev=Count("values", filter=Q(values__is_deviation=True)), n_out=Count("outputs", distinct=True)),
        "n_dev", "n_out")
    return render(request, "samples/run_list.html", {"filter": fs, "page": page, "query": query})


def _run_queryset(user):
    return restrict(ProcessRun.objects.select_related("recipe_version__recipe", "project", "operator"), user)


@login_required
def run_detail(request, pk):
    run = get_object_or_404(_run_queryset(request.user).prefetch_related(
        Prefetch("values", queryset=RunValue.objects.select_related("parameter__step")),
        Prefetch("lots", queryset=run_lots_queryset()),
        "inputs", "outputs", "lot_usages"), pk=pk)
    steps = []
    for value in run.values.all():
        if not steps or steps[-1]["step"] != value.parameter.step:
            steps.append({"step": value.parameter.step, "values": []})
        steps[-1]["values"].append(value)
    return render(request, "samples/run_detail.html", {
        "run": run, "steps": steps, "deviations": sum(v.is_deviation for v in run.values.all()),
        "can_log": run.status in (RunStatus.PLANNED, RunStatus.IN_PROGRESS),
        "lot_rows": run_lot_rows(run),
    })


def run_lot_rows(run: ProcessRun) -> list[dict]:
    """The run's lots with what it took from each and whether one was past its expiry date on
    the day of the run (its planned date, else when it started, else today)."""
    from django.utils import timezone

    day = run.planned_date or (run.started_at and timezone.localdate(run.started_at)) or timezone.localdate()
    usages = {u.lot_id: u for u in run.lot_usages.all()}
    return [{"lot": lot, "expired": lot.is_expired_on(day), "day": day, "usage": usages.get(lot.pk)}
            for lot in run.lots.all()]


def run_lots_queryset():
    from recipes.models import ChemicalLot

    return ChemicalLot.objects.select_related("chemical")


def _save_run_form(form: RunForm, run: ProcessRun | None, request) -> ProcessRun:
    """Plan (if new) with its planned outputs, record conditions and actuals; all or nothing.
    Never completes the run: that is its own confirmed step (``run_complete``)."""
    data = form.cleaned_data
    with transaction.atomic():
        if run is None:
            run = services.run_plan(version=form.version, project=data["project"], operator=request.user,
                                    planned_date=data.get("planned_date"), inputs=data.get("inputs") or (),
                                    lots=data.get("lots") or (), batch_volume_ml=data.get("batch_volume_ml"),
                                    **form.planned_outputs())
        else:
            services.run_set_planned_outputs(run, **form.planned_outputs())
        services.run_set_conditions(run, **form.conditions())
        notes, texts = form.parameter_notes(), form.texts()
        for path, (number, unit) in form.actuals().items():
            try:
                services.run_record_actuals(run, {path: (number, unit)}, {path: notes.pop(path)})
            except ValidationError as exc:
                _attach(form, exc, path)
                raise
        if texts:
            values = {f"{v.parameter.step.order}.{v.parameter.key}": v for v in run.values.select_related("parameter__step")}
            for path, text in texts.items():
                services.run_value_set_actual(values[path], None, actual_text=text, note=notes.pop(path))
        if notes:  # notes beside parameters whose value was not typed (yet)
            services.run_record_actuals(run, {}, notes)
    return run


def _attach(form: RunForm, exc: ValidationError, path: str | None = None) -> None:
    """Put a service's ValidationError beside the field it is about."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            target = form.field_for_path(path, field) if path else field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


def _run_form_response(request, form, version, run=None):
    return render(request, "samples/run_form.html", {
        "form": form, "version": version, "run": run, "rows": form.rows,
        "steps": _group_rows(form),
    })


def _group_rows(form):
    steps = []
    for row in form.rows:
        if not steps or steps[-1]["order"] != row.step_order:
            steps.append({"order": row.step_order, "name": row.step_name, "rows": []})
        steps[-1]["rows"].append({
            "row": row,
            "value": form[row.value_field] if row.value_field else None,
            "unit": form[row.unit_field] if row.unit_field else None,
            "text": form[row.text_field] if row.text_field else None,
            "note": form[row.note_field],
        })
    return steps


@login_required
def run_plan(request, version_id):
    version = get_object_or_404(RecipeVersion.objects.select_related("recipe"), pk=version_id)
    rows = rows_from_version(version)
    initial = {}
    if request.GET.get("inputs"):
        labels = request.GET["inputs"].split(",")
        initial["inputs"] = restrict(Sample.objects.filter(label__in=labels), request.user)
    form = RunForm(request.POST or None, version=version, user=request.user, rows=rows, initial=initial)
    return _submit_run_form(request, form, version, None)


@login_required
def run_input_search(request):
    """GET ?q=&kind= → the run form's input-sample candidates as JSON (static/js/input_picker.js)."""
    kind = request.GET.get("kind", "")
    if kind and kind not in SampleKind.values:
        return JsonResponse({"detail": f"Unknown sample kind {kind!r}."}, status=400)
    rows, more = input_candidates(request.user, q=request.GET.get("q", ""), kind=kind)
    return JsonResponse({"results": [{"id": s.pk, "label": s.label, "kind": s.kind, "text": input_choice_label(s)}
                                     for s in rows], "more": more})


@login_required
def run_log(request, pk):
    run = get_object_or_404(_run_queryset(request.user), pk=pk)
    if run.status not in (RunStatus.PLANNED, RunStatus.IN_PROGRESS):
        messages.info(request, f"{run.label} is {run.get_status_display().lower()}; its values are final.")
        return redirect(run)
    rows = rows_from_run(run)
    initial = {n: getattr(run, n) for n in ("glovebox_o2_ppm", "glovebox_h2o_ppm", "temperature_c",
                                             "humidity_percent", "batch_volume_ml", "notes")}
    initial.update(outputs=run.planned_outputs, output_kind=run.planned_output_kind,
                   output_names="\n".join(run.planned_output_names or []), output_location=run.planned_output_location)
    for value in run.values.select_related("parameter__step"):
        key = f"{value.parameter.step.order}_{value.parameter.key}"
        initial[f"v_{key}"], initial[f"u_{key}"] = value.actual_value, value.actual_unit or value.unit
        initial[f"t_{key}"], initial[f"n_{key}"] = value.actual_text, value.note
    form = RunForm(request.POST or None, version=run.recipe_version, user=request.user, rows=rows, run=run, initial=initial)
    return _submit_run_form(request, form, run.recipe_version, run)


def _submit_run_form(request, form, version, run):
    """Plan and log share one submit path: save through the services, or re-render with the
    service's errors next to the fields and everything the user typed kept."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_run_form(form, run, request)
        except ValidationError as exc:
            if not form.errors:
                _attach(form, exc)
        else:
            messages.success(request, _saved_message(saved))
            return redirect(saved)
    return _run_form_response(request, form, version, run)


def _saved_message(run: ProcessRun) -> str:
    n_dev = run.values.filter(is_deviation=True).count()
    text = f"{run.label} saved ({run.get_status_display().lower()})"
    if n_dev:
        text += f"; {n_dev} value(s) outside the planned range"
    return text + "."


@login_required
def run_complete(request, pk):
    """Completing a run is its own step: GET lists what will be created, POST (the confirm button)
    creates it. Nothing here is ticked by default on another page."""
    run = get_object_or_404(_run_queryset(request.user).prefetch_related("inputs"), pk=pk)
    if run.status not in (RunStatus.PLANNED, RunStatus.IN_PROGRESS):
        messages.info(request, f"{run.label} is {run.get_status_display().lower()}; it cannot be completed again.")
        return redirect(run)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") != str(run.planned_outputs):
            # The page the user confirmed listed another count (the plan changed meanwhile).
            error = "The planned outputs changed since this page was opened; check the list again."
        else:
            try:
                created = services.run_complete(run, owner=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, f"{run.label} completed; created {', '.join(s.label for s in created)}.")
                for usage in run.lot_usages.select_related("lot__chemical"):
                    if usage.is_overdrawn:
                        messages.warning(request, f"{usage.lot}: {usage.remaining_after:g} {usage.unit} left after this "
                                                  "run — more was used than the lot's record held; correct its amount.")
                return redirect(run)
    return render(request, "samples/run_complete.html", {
        "run": run, "rows": run.planned_output_rows(), "inputs": list(run.inputs.all()), "error": error,
        "lot_rows": run_lot_rows(run),
        "not_logged": run.values.filter(actual_value__isnull=True, actual_text="").count(),
    }, status=400 if error else 200)
