"""Insights pages: what moved the metric (drivers), is the process in control (control charts),
what to try next (suggest → planned runs). Views validate → call a selector or service → render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.access import restrict
from core.downloads import csv_response
from recipes.models import Recipe, RecipeVersion
from samples.models import ProcessRun

from . import figures, pages, selectors, services, warming
from .forms import ControlForm, DriversForm, PlanForm, SuggestForm, with_defaults
from .science.spc import RULES


@login_required
@require_GET
def drivers(request: HttpRequest) -> HttpResponse:
    probe = DriversForm(request.GET or None, user=request.user)
    recipe, project = probe.family()
    data = selectors.family_data(request.user, recipe=recipe, project=project)
    form = DriversForm(with_defaults(request.GET, {"recipe": recipe.pk if recipe else None,
                                                   "metrics": pages.default_metrics(data)}),
                       user=request.user, recipes=probe.recipes, metric_choices=data.metrics)
    metrics = pages.default_metrics(data, form.cleaned_data.get("metrics") if form.is_valid() else None)
    table = selectors.drivers_table(data, metrics) if metrics else None
    fmt = request.GET.get("format")
    if table is not None and fmt in ("csv", "xlsx"):
        return _table_download(selectors.drivers_export_frame(data, table), fmt, recipe)
    family_query = pages.family_query(recipe, project)
    sections_html = pages.sections_html(data, table, metrics, family_query) if table is not None else ""
    warming.record("drivers", request.user, recipe, project, metrics if "metrics" in request.GET else None)
    return render(request, "insights/drivers.html", {
        "form": form, "recipe": recipe, "project": project, "data": data, "table": table,
        "sections_html": sections_html, "family_query": family_query, "query": request.GET.urlencode(),
        "tab": "drivers",
    })


def _table_download(frame, fmt: str, recipe: Recipe | None) -> HttpResponse:
    from measurements.api.export import to_csv, to_xlsx

    name = f"drivers-{recipe.pk if recipe else 'all'}.{fmt}"
    if fmt != "xlsx":
        return csv_response(to_csv(frame), name)
    response = HttpResponse(to_xlsx(frame), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def driver_plot(request: HttpRequest) -> HttpResponse:
    """One driver's plot (loaded into its table row on demand)."""
    recipe, project = DriversForm(request.GET, user=request.user).family()
    metric, parameter = request.GET.get("metric", ""), request.GET.get("parameter", "")
    data = selectors.family_data(request.user, recipe=recipe, project=project)
    if metric not in data.metrics or parameter not in data.columns:
        raise Http404("no such metric or parameter in this family")
    table = selectors.drivers_table(data, [metric])
    row = next((r for r in table.for_metric(metric) if r.parameter == parameter), None)
    if row is None or row.effect is None:
        return HttpResponse('<p class="empty">No plot: no effect was estimated for this pair.</p>')
    return HttpResponse(figures.driver_plot(data, table, row))


@login_required
@require_GET
def control(request: HttpRequest) -> HttpResponse:
    probe = ControlForm(request.GET or None, user=request.user)
    recipe, project = probe.family()
    data = selectors.control_data(request.user, recipe=recipe, project=project)
    form = ControlForm(with_defaults(request.GET, {"recipe": recipe.pk if recipe else None, "sigma": "average_mr",
                                                   "metric": next(iter(pages.default_metrics(data, k=1)), None)}),
                       user=request.user, recipes=probe.recipes, metric_choices=data.metrics)
    valid = form.is_valid()
    metric = (form.cleaned_data.get("metric") if valid else None) or next(iter(pages.default_metrics(data, k=1)), None)
    sigma = (form.cleaned_data.get("sigma") if valid else None) or "average_mr"
    view = selectors.control_charts(data, metric, sigma=sigma) if metric else None
    warming.record("control", request.user, recipe, project)
    hits = []
    lots = []
    if view:
        for c in view.charts:
            for p in c.out_of_control:
                hits.append({"chart": c, "point": p, "url": data.urls.get(p.label, ""),
                             "rules": [f"{r} · {RULES[r]}" for r in p.rules]})
        for column in view.lots:
            lots.append({"column": column, "label": data.label(column), "summaries": view.lots[column],
                         "svg": figures.lot_plot(view, column, data)})
    return render(request, "insights/control.html", {
        "form": form, "recipe": recipe, "project": project, "data": data, "view": view, "metric": metric,
        "plots": figures.control_plots(view) if view else [], "hits": hits, "lots": lots,
        "family_query": pages.family_query(recipe, project), "tab": "control", "rules": RULES,
    })


def _suggest_version(request, user) -> RecipeVersion | None:
    raw = request.GET.get("version")
    qs = restrict(RecipeVersion.objects.select_related("recipe"), user)
    if raw:
        try:
            return qs.get(pk=int(raw))
        except (ValueError, RecipeVersion.DoesNotExist):
            raise Http404("no such recipe version") from None
    recipe = selectors.default_recipe(user)
    return qs.filter(recipe=recipe).order_by("-number").first() if recipe else None


@login_required
@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    version = _suggest_version(request, request.user)
    asked = "objective" in request.GET  # the form was submitted: propose; else only show the space
    defaults = {"version": version.pk if version else None, "objective": "eqe_max", "weight": 0.5, "batch": 4,
                "scope": "recipe", "seed": 1}
    for p in selectors.version_space(version) if version else []:
        key = p.path.replace(".", "_")
        defaults.update({f"mode_{key}": "vary", f"low_{key}": p.low, f"high_{key}": p.high, f"value_{key}": p.nominal})
    form = SuggestForm(with_defaults(request.GET, defaults), user=request.user, version=version)
    result, plan_form = None, None
    if asked and form.is_valid():
        try:
            result = selectors.propose(request.user, version=version, objective=form.cleaned_data["objective"],
                                       weight=form.cleaned_data.get("weight"), q=form.cleaned_data["batch"],
                                       scope=form.cleaned_data["scope"], project=form.cleaned_data.get("project"),
                                       seed=form.cleaned_data.get("seed"), space_items=form.space_items(), space=form.space)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            default_project = form.cleaned_data.get("project") or selectors.busiest_project(request.user, version.recipe)
            plan_form = PlanForm(user=request.user, initial={
                "version": version.pk, "project": default_project.code if default_project else None,
                "proposals": [p.values for p in result.proposals], "note": result.note})  # JSONField dumps it
    return render(request, "insights/suggest.html", {
        "form": form, "version": version, "result": result, "plan_form": plan_form, "tab": "suggest",
        "recipe": version.recipe if version else None,
        "family_query": f"recipe={version.recipe_id}" if version else "",
    })


@login_required
@require_POST
def plan(request: HttpRequest) -> HttpResponse:
    form = PlanForm(request.POST, user=request.user)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{field}: {error}")
        return redirect(reverse("insights-suggest"))
    version = form.cleaned_data["version"]
    try:
        runs = services.proposals_plan(version=version, project=form.cleaned_data["project"], user=request.user,
                                       proposals=form.cleaned_data["proposals"],
                                       planned_date=form.cleaned_data.get("planned_date"), note=form.cleaned_data["note"])
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(f"{reverse('insights-suggest')}?version={version.pk}")
    messages.success(request, f"Planned {len(runs)} run(s) of {version}: {', '.join(r.label for r in runs)}.")
    return redirect(f"{reverse('insights-planned')}?runs={','.join(str(r.pk) for r in runs)}")


@login_required
@require_GET
def planned(request: HttpRequest) -> HttpResponse:
    try:
        ids = [int(i) for i in request.GET.get("runs", "").split(",") if i.strip()][:50]
    except ValueError:
        raise Http404("runs must be comma-separated ids") from None
    runs = list(restrict(ProcessRun.objects.filter(pk__in=ids), request.user)
                .select_related("recipe_version__recipe", "project").prefetch_related("values__parameter__step")
                .order_by("pk"))
    if not runs:
        raise Http404("no such runs")
    version = runs[0].recipe_version
    space_paths = {p.path for p in selectors.version_space(version)}
    rows = [{"run": r, "values": [v for v in r.values.all()
                                   if f"{v.parameter.step.order}.{v.parameter.key}" in space_paths]} for r in runs]
    return render(request, "insights/planned.html", {
        "rows": rows, "version": version, "run_ids": ",".join(str(r.pk) for r in runs), "tab": "suggest",
        "today": dt.date.today(), "recipe": version.recipe, "family_query": f"recipe={version.recipe_id}",
    })
