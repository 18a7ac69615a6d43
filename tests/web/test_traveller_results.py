"""Issue 14: the traveller's Results are one pixel's — the best, as on Compare — with a line that
says which, never the best pixel's EQE beside medians of the others; a metric that pixel lacks
comes from the median row and says so. Human names, the registry's digits."""

from __future__ import annotations

import pytest

from measurements.models import DerivedMetric
from measurements.services import rollup_device
from portal.travellers import results_for

pytestmark = pytest.mark.django_db


def _pixel_metric(device, pixel_name, name, value, unit):
    return DerivedMetric.objects.create(name=name, value=value, unit=unit, scope="pixel", sample=device.sample,
                                        device=device, pixel=device.pixels.get(name=pixel_name), method="led", version="1")


def test_results_are_the_best_pixels_and_a_missing_one_is_the_labelled_median(device):
    # eqe_max A 12.5, B 17.9, C 9.1 % (fixture); A is brightest; only A and C have an EL peak.
    for pixel, lum in (("A", 9000.0), ("B", 5000.0), ("C", 2000.0)):
        _pixel_metric(device, pixel, "luminance_max", lum, "cd/m²")
    _pixel_metric(device, "A", "el_peak_wavelength", 650.04, "nm")
    _pixel_metric(device, "C", "el_peak_wavelength", 660.0, "nm")
    rollup_device(device, ["eqe_max", "luminance_max", "el_peak_wavelength"])
    (metrics, _plots), = results_for([device.sample]).values()
    rows = {m.name: m for m in metrics}
    label = device.sample.label
    assert metrics[0].label == "Pixel" and metrics[0].value == f"{label}-B (best of 3, by EQE max)"
    # Pixel B's own values (not A's brighter 9000 cd/m², not the 12.5 % median), at the registry's digits.
    assert (rows["eqe_max"].label, rows["eqe_max"].value, rows["eqe_max"].unit) == ("EQE max", "17.9", "%")
    assert rows["luminance_max"].value == "5000"
    # B has no EL peak: the median of A and C (655.02 nm to 4 digits), labelled as a median.
    assert rows["el_peak_wavelength"].value == "655.0"
    assert rows["el_peak_wavelength"].label == "EL peak, median of 2 pixels"
    assert [m.name for m in metrics] == ["pixel", "eqe_max", "luminance_max", "el_peak_wavelength"]


def test_a_film_prints_its_own_values(lineage):
    film = lineage["film"]
    DerivedMetric.objects.create(name="plqy", value=71.234, unit="%", scope="sample", sample=film, method="plqy", version="1")
    (metrics, _), = results_for([film]).values()
    assert [(m.label, m.value, m.unit) for m in metrics] == [("PLQY", "71.2", "%")]
