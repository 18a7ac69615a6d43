"""Recipes (versions, diff, revise) and chemicals with their lots. Lab-wide: no project filter,
but every queryset still goes through restrict() so the rule stays in one place."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from core.access import can_author, require_author, restrict
from core.pagination import EstimatedPaginator as Paginator

from . import services
from .filtersets import ChemicalFilterSet, RecipeFilterSet
from .forms import ChemicalForm, LotForm, RecipeEditor, RevisionForm
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
    require_author(request.user)
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
    author = can_author(request.user)
    return render(request, "recipes/chemical_detail.html", {
        "chemical": chemical, "lots": lots, "used_in": used_in, "can_author": author,
        "lot_form": LotForm(instance=ChemicalLot(chemical=chemical)) if author else None,
    })


# --- authoring: recipes, versions, chemicals, lots (the API's write rule: core.access.can_author) --

def _editor_response(request, template, editor, **context):
    return render(request, template, {"editor": editor, **context})


@login_required
def recipe_create(request):
    require_author(request.user)
    data = request.POST if request.method == "POST" else None
    grown = RecipeEditor.with_added_row(data) if data is not None else None
    if grown is not None:  # "Add step" / "Add parameter" without JavaScript: the same page, one row more
        return _editor_response(request, "recipes/recipe_form.html", RecipeEditor(grown, reason_required=False))
    editor = RecipeEditor(data, reason_required=False)
    if data is not None and editor.is_valid():
        head = editor.head.cleaned_data
        try:
            version = services.recipe_create(
                name=head["name"], step_type=head["step_type"], output_kind=head["output_kind"] or "",
                description=head["description"], reference=head["reference"], steps=editor.specs(),
                notes=editor.reason.cleaned_data["notes"], user=request.user)
        except ValidationError as exc:
            editor.add_service_error(exc)
        else:
            messages.success(request, f"Created {version.recipe.name} v1 with {len(editor.specs())} step(s).")
            return redirect("recipe-detail", version.recipe_id)
    return _editor_response(request, "recipes/recipe_form.html", editor)


@login_required
def recipe_version_edit(request, version_id):
    """The next version with its steps and parameters edited (added, removed, renamed, re-united);
    the version it starts from stays as it is."""
    require_author(request.user)
    version = get_object_or_404(restrict(RecipeVersion.objects.select_related("recipe"), request.user), pk=version_id)
    context = {"version": version, "next_number": version.recipe.latest_version.number + 1}
    data = request.POST if request.method == "POST" else None
    grown = RecipeEditor.with_added_row(data) if data is not None else None
    if grown is not None:
        return _editor_response(request, "recipes/recipe_form.html", RecipeEditor(grown, head=False), **context)
    editor = RecipeEditor.from_version(version, data)
    if data is not None and editor.is_valid():
        try:
            new = services.recipe_version_revise(version, steps=editor.specs(),
                                                 notes=editor.reason.cleaned_data["notes"], user=request.user)
        except ValidationError as exc:
            editor.add_service_error(exc)
        else:
            messages.success(request, f"Created {new} from v{version.number}.")
            url = reverse("recipe-detail", args=[version.recipe_id])
            return redirect(f"{url}?v={new.number}&a={version.number}&b={new.number}#diff")
    return _editor_response(request, "recipes/recipe_form.html", editor, **context)


def _attach(form, exc: ValidationError) -> None:
    for field, errors in getattr(exc, "message_dict", {None: exc.messages}).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@login_required
def chemical_edit(request, pk=None):
    require_author(request.user)
    chemical = get_object_or_404(restrict(Chemical.objects.all(), request.user), pk=pk) if pk else None
    form = ChemicalForm(request.POST or None, instance=chemical)
    if request.method == "POST" and form.is_valid():
        fields = {f: form.cleaned_data[f] for f in services.CHEMICAL_FIELDS}
        try:
            # A fresh instance for the service: the ModelForm already wrote its values onto ``chemical``.
            saved = services.chemical_save(Chemical.objects.get(pk=pk) if pk else None, **fields)
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"{saved.name} saved{f' (M = {saved.molar_mass_g_mol:.2f} g/mol)' if saved.molar_mass_g_mol else ''}.")
            return redirect("chemical-detail", saved.pk)
    return render(request, "recipes/chemical_form.html", {"form": form, "chemical": chemical})


def _lot_form_response(request, form, chemical, lot=None):
    return render(request, "recipes/lot_form.html", {"form": form, "chemical": chemical, "lot": lot})


@login_required
def lot_create(request, chemical_id):
    require_author(request.user)
    chemical = get_object_or_404(restrict(Chemical.objects.all(), request.user), pk=chemical_id)
    form = LotForm(request.POST or None, instance=ChemicalLot(chemical=chemical))
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_save(chemical=chemical, **{f: form.cleaned_data[f] for f in services.LOT_FIELDS})
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"Lot {lot.lot_number} of {chemical.name} recorded.")
            return redirect(f"{reverse('chemical-detail', args=[chemical.pk])}#lots")
    return _lot_form_response(request, form, chemical)


@login_required
def lot_edit(request, pk):
    require_author(request.user)
    lot = get_object_or_404(restrict(ChemicalLot.objects.select_related("chemical"), request.user), pk=pk)
    form = LotForm(request.POST or None, instance=lot)
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_save(ChemicalLot.objects.get(pk=pk), **{f: form.cleaned_data[f] for f in services.LOT_FIELDS})
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"Lot {lot.lot_number} saved.")
            return redirect(f"{reverse('chemical-detail', args=[lot.chemical_id])}#lots")
    return _lot_form_response(request, form, lot.chemical, lot)
