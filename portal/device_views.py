"""Device list and detail: the stack as a cross-section, pixels with their key metrics (devices
and measurements on one page, so the pages live in portal)."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from core.access import restrict
from core.pagination import EstimatedPaginator as Paginator
from core.pagination import annotate_rows
from devices.filtersets import DeviceFilterSet
from devices.models import Device, Layer, Pixel
from devices.stack import FUNCTION_COLOURS, MIN_H, stack_svg
from measurements.metric_names import metric_heading
from measurements.models import DerivedMetric
from samples.views import upload_url

# (canonical name, column heading from the one registry: measurements.metric_names)
KEY_METRICS = [(name, metric_heading(name)) for name in (
    "eqe_max", "eqe_at_100_ma_cm2", "luminance_max", "current_efficiency_max", "turn_on_voltage",
    "el_peak_wavelength", "t50")]
METRIC_NAMES = [name for name, _ in KEY_METRICS]


@login_required
def device_list(request):
    fs = DeviceFilterSet(request.GET or None, queryset=restrict(Device.objects.all(), request.user))
    qs = ((fs.qs if fs.is_bound else fs.queryset).select_related("sample__project", "architecture__recipe")
          .order_by("-sample__created_at", "-sample_id"))
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    page.object_list = annotate_rows(list(page.object_list), Device.objects.annotate(
        n_pixels=Count("pixels", distinct=True), n_layers=Count("layers", distinct=True)), "n_pixels", "n_layers")
    query = request.GET.copy()
    query.pop("page", None)
    best = {m.device_id: m for m in restrict(DerivedMetric.objects.current().filter(
        device__in=[d.pk for d in page], name="eqe_max", pixel__isnull=True, aggregate="best"), request.user)}
    rows = [(d, best.get(d.pk)) for d in page]
    return render(request, "devices/device_list.html", {"filter": fs, "page": page, "rows": rows, "query": query.urlencode(),
                                                        "export_samples": [d.sample.label for d in page]})


def pixel_url(pixel: Pixel) -> str:
    """A pixel's place: its device page at its row (``?pixel=`` highlights it without JS)."""
    return f"{reverse('device-detail', args=[pixel.device.sample.label])}?{urlencode({'pixel': pixel.label})}#pixel-{pixel.label}"


@login_required
def device_detail(request, label):
    device = get_object_or_404(
        restrict(Device.objects.select_related("sample__project", "architecture__recipe"), request.user)
        .prefetch_related(Prefetch("layers", queryset=Layer.objects.select_related("source", "run").order_by("order"))),
        sample__label=label)
    pixels = list(restrict(Pixel.objects.filter(device=device), request.user).order_by("name"))
    metrics = defaultdict(dict)
    for m in restrict(DerivedMetric.objects.current().filter(pixel__device=device, name__in=METRIC_NAMES), request.user).order_by("-created_at"):
        metrics[m.pixel_id].setdefault(m.name, m)
    rows = [{"pixel": p, "metrics": [metrics[p.pk].get(name) for name in METRIC_NAMES]} for p in pixels]
    scored = [(metrics[p.pk]["eqe_max"].value, p) for p in pixels if "eqe_max" in metrics[p.pk]]
    hero = max(scored, key=lambda t: t[0])[1] if scored else None
    layers = list(device.layers.all())
    legend = sorted({(layer.function, FUNCTION_COLOURS.get(layer.function.lower(), "#e6e6e6")) for layer in layers if layer.function})
    return render(request, "devices/device_detail.html", {
        "device": device, "sample": device.sample, "layers": layers, "svg": stack_svg(layers), "legend": legend,
        "rows": rows, "metric_names": KEY_METRICS, "hero": hero, "min_h": MIN_H,
        "selected_pixel": request.GET.get("pixel", ""),
        "upload_url": upload_url(device.sample.label),
    })
