"""Issue 14 defect 5: Compare's "best pixel" row put pixel B's EQE beside medians of A and B (and
another pixel's luminance). A row is now one pixel, or clearly the median row."""

import pytest
from django.urls import reverse

from measurements.models import DerivedMetric
from measurements.services import rollup_device

pytestmark = pytest.mark.django_db


def _pixel_metric(device, pixel_name, name, value, unit):
    return DerivedMetric.objects.create(name=name, value=value, unit=unit, scope="pixel", sample=device.sample,
                                        device=device, pixel=device.pixels.get(name=pixel_name), method="led", version="1")


def test_best_pixel_row_is_one_pixel_and_the_median_row_is_separate(client_in, device):
    # The fixture's pixels: eqe_max A 12.5, B 17.9, C 9.1 %. A is the brightest; only A and B have a peak.
    for pixel, lum in (("A", 9000.0), ("B", 5000.0), ("C", 2000.0)):
        _pixel_metric(device, pixel, "luminance_max", lum, "cd/m²")
    _pixel_metric(device, "A", "el_peak_wavelength", 650.0, "nm")
    _pixel_metric(device, "B", "el_peak_wavelength", 660.0, "nm")
    rollup_device(device, ["eqe_max", "luminance_max", "el_peak_wavelength"])
    response = client_in.get(reverse("compare"), {"samples": [device.sample.label]})
    names = response.context["metric_names"]
    rows = response.context["metric_rows"]
    assert [r["kind"] for r in rows] == ["pixel", "median"]
    best, median = ({n: (m.value if m else None) for n, m in zip(names, r["cells"], strict=True)} for r in rows)
    # Every cell of the best-pixel row is pixel B's (best EQE), not A's brighter luminance, not a median peak.
    assert best == {"eqe_max": 17.9, "luminance_max": 5000.0, "el_peak_wavelength": 660.0}
    assert all(m.pixel.name == "B" for m in rows[0]["cells"] if m)
    assert median == {"eqe_max": 12.5, "luminance_max": 5000.0, "el_peak_wavelength": 655.0}
    assert all(m.aggregate == "median" for m in rows[1]["cells"] if m)
    page = response.content.decode()
    assert f"pixel {device.sample.label}-B" in page and "best pixel of 3, by eqe_max" in page
    assert "median of 3 pixels" in page
