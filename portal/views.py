"""Home page and the label search a USB QR scanner types into."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve

from core.access import restrict
from core.search import label_forms, text_forms
from devices.models import Pixel
from insights.panels import home_out_of_control_panel
from measurements.models import FileStatus, MeasurementFile
from portal.device_views import pixel_url
from recipes.models import Chemical, ChemicalLot, Recipe, StepType
from samples.models import ProcessRun, Sample, SampleParent, SampleStatus


@login_required
def home(request):
    user = request.user
    runs = (restrict(ProcessRun.objects.filter(operator=user), user)
            .select_related("recipe_version__recipe")
            .annotate(n_dev=Count("values", filter=Q(values__is_deviation=True)))
            .order_by("-created_at")[:10])
    # "Waiting for the next step": alive and nothing made from it yet.
    # NOT EXISTS rather than a LEFT JOIN … IS NULL: the planner walks the newest samples and stops at
    # 15 instead of anti-joining all 100k first (issue 15).
    made_from = SampleParent.objects.filter(parent=OuterRef("pk"))
    waiting = (restrict(Sample.objects.filter(~Exists(made_from), status__in=[SampleStatus.WAITING, SampleStatus.ACTIVE]),
                        user)
               .select_related("project", "produced_by__recipe_version__recipe").order_by("-created_at")[:15])
    failed = (restrict(MeasurementFile.objects.filter(status=FileStatus.FAILED, hidden=False), user)
              .select_related("sample", "pixel").order_by("-created_at")[:10])
    return render(request, "portal/home.html", {"runs": runs, "waiting": waiting, "failed": failed,
                                                "out_of_control": home_out_of_control_panel(request)})


def _local_path(text: str) -> str | None:
    """A scanned QR code types the sample's full URL: keep only its path if it is one of ours."""
    if not (text.startswith(("http://", "https://", "/"))):
        return None
    parts = urlsplit(text)
    try:
        resolve(parts.path)
    except (Resolver404, Http404):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@login_required
def search(request):
    q = (request.GET.get("q") or "").strip()
    user = request.user
    if not q:
        return render(request, "portal/search.html", {"q": q})
    path = _local_path(q)
    if path:
        return redirect(path)
    labels = {q, *label_forms(q)}
    label_q = Q()
    for text in labels:
        label_q |= Q(label__iexact=text)
    # A pixel first: "DEV-1-A" also reads as its device's label DEV-0001, and the pixel is what was
    # scanned. It opens its device page at its row, highlighted (there is no page per pixel).
    pixel = restrict(Pixel.objects.filter(label_q).select_related("device__sample"), user).first()
    if pixel:
        return redirect(pixel_url(pixel))
    sample = restrict(Sample.objects.filter(label_q), user).first()
    if sample:
        return redirect(sample)
    run = restrict(ProcessRun.objects.filter(label_q), user).first()
    if run:
        return redirect(run)
    texts = text_forms(q)

    def anywhere(*fields):
        found = Q()
        for field in fields:
            for text in texts:
                found |= Q(**{f"{field}__icontains": text})
        return found

    samples = (restrict(Sample.objects.filter(anywhere("label", "name")), user)
               .select_related("project").order_by("-created_at")[:50])
    runs = (restrict(ProcessRun.objects.filter(anywhere("label", "recipe_version__recipe__name")), user)
            .select_related("recipe_version__recipe").order_by("-created_at")[:20])
    step_types = [value for value, label in StepType.choices if any(t.casefold() in label.casefold() for t in texts)]
    recipes = restrict(Recipe.objects.filter(anywhere("name", "description", "versions__steps__name")
                                             | Q(step_type__in=step_types)).distinct(), user)[:20]
    chemicals = restrict(Chemical.objects.filter(anywhere("name", "abbreviation", "formula")), user)[:20]
    lots = (restrict(ChemicalLot.objects.filter(anywhere("lot_number", "catalog_number")), user)
            .select_related("chemical")[:20])
    return render(request, "portal/search.html", {"q": q, "samples": samples, "runs": runs, "recipes": recipes,
                                                "chemicals": chemicals, "lots": lots})
