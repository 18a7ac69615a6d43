"""Recipes (versions, diff, revise) and chemicals with their lots. Lab-wide: no project filter,
but every queryset still goes through restrict() so the rule stays in one place."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from core.access import restrict
from core.pagination import EstimatedPaginator as Paginator

from . import services
from .filtersets import ChemicalFilterSet, RecipeFilterSet
from .forms import RevisionForm
from .models import Chemical, ChemicalLot, Recipe, RecipeParameter, RecipeStep, RecipeVersion

PAGE_SIZE = 25


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


@login_required
def recipe_list(request):
    fs = RecipeFilterSet(request.GET or None, queryset=restrict(Recipe.objects.all(), request.user))
    qs = (fs.qs if fs.is_bound else fs.queryset).annotate(
        n_versions=Count("versions", distinct=True), latest=Max("versions__number"),
        n_runs=Count("versions__runs", distinct=True)).order_by("name")
    page, query = _page(request, qs)
    return render(request, "recipes/recipe_list.html", {"filter": fs, "page": page, "query": query})


def _version_with_content(qs):
    return qs.prefetch_related(Prefetch("steps", queryset=RecipeStep.objects.prefetch_related(
        Prefetch("parameters", queryset=RecipeParameter.objects.select_related("chemical")))))


@login_required
def recipe_detail(request, pk):
    recipe = get_object_or_404(restrict(Recipe.objects.select_related("created_by"), request.user), pk=pk)
    versions = list(recipe.versions.select_related("created_by").annotate(n_runs=Count("runs")).order_by("-number"))
    if not versions:
        return render(request, "recipes/recipe_detail.html", {"recipe": recipe, "versions": []})
    by_number = {v.number: v for v in versions}
    try:
        current_number = int(request.GET.get("v", versions[0].number))
    except ValueError:
        current_number = versions[0].number
    current = by_number.get(current_number, versions[0])
    current = _version_with_content(RecipeVersion.objects.filter(pk=current.pk)).get()
    diff = a = b = None
    if request.GET.get("a") and request.GET.get("b"):
        try:
            a, b = by_number.get(int(request.GET["a"])), by_number.get(int(request.GET["b"]))
        except ValueError:
            a = b = None
        if a and b:
            diff = services.version_diff(a, b)
    return render(request, "recipes/recipe_detail.html", {
        "recipe": recipe, "versions": versions, "current": current, "diff": diff, "diff_a": a, "diff_b": b,
    })


@login_required
def recipe_revise(request, version_id):
    version = get_object_or_404(restrict(RecipeVersion.objects.select_related("recipe"), request.user), pk=version_id)
    form = RevisionForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.recipe_version_revise(version, changes=form.changes, notes=form.cleaned_data["notes"],
                                                 user=request.user)
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error(None, error)
        else:
            messages.success(request, f"Created {new}: {len(form.changes)} parameter(s) changed from v{version.number}.")
            url = reverse("recipe-detail", args=[version.recipe_id])
            return redirect(f"{url}?v={new.number}&a={version.number}&b={new.number}#diff")
    return render(request, "recipes/recipe_revise.html", {"version": version, "form": form})


@login_required
def chemical_list(request):
    fs = ChemicalFilterSet(request.GET or None, queryset=restrict(Chemical.objects.all(), request.user))
    qs = (fs.qs if fs.is_bound else fs.queryset).annotate(n_lots=Count("lots")).order_by("name")
    page, query = _page(request, qs)
    return render(request, "recipes/chemical_list.html", {"filter": fs, "page": page, "query": query})


@login_required
def chemical_detail(request, pk):
    chemical = get_object_or_404(restrict(Chemical.objects.all(), request.user), pk=pk)
    lots = restrict(ChemicalLot.objects.filter(chemical=chemical), request.user).order_by("-is_active", "-received_on")
    used_in = (restrict(RecipeVersion.objects.filter(steps__parameters__chemical=chemical), request.user)
               .select_related("recipe").distinct().order_by("recipe__name", "-number"))
    # The runs that used each lot live a layer above (samples); reached through the reverse relation
    # and restricted like every other read, so another project's runs stay invisible.
    lots = list(lots)
    for lot in lots:
        lot.used_by = list(restrict(lot.runs.all(), request.user).prefetch_related("lot_usages")
                           .order_by("-created_at"))
        for run in lot.used_by:
            run.usage_here = next((u for u in run.lot_usages.all() if u.lot_id == lot.pk), None)
    return render(request, "recipes/chemical_detail.html", {"chemical": chemical, "lots": lots, "used_in": used_in})
