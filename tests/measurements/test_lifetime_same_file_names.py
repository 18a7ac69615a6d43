"""Lifetime runs from several pixels often share the instrument's file name: each run's T50 must
still go to its own pixel (per-file results are matched by position, not by name)."""

from __future__ import annotations

import pytest

from measurements.models import DerivedMetric
from measurements.services import measurement_file_ingest

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit must fire: the task is enqueued on commit


def test_lifetime_runs_with_one_file_name_keep_their_own_pixels(data_dir, answers, demo):
    device = demo["devices"]["QD-in-matrix LED, stack A"]
    curves = answers["lifetime"]["curves"]
    pixels = list(device.pixels.all())
    for curve, pixel in zip(curves, pixels, strict=True):
        content = (data_dir / "public" / curve["file"]).read_bytes()
        measurement_file_ingest(content=content, filename="lifetime.csv", sample=device.sample, pixel=pixel,
                                kind="lifetime")
    tol = answers["lifetime"]["tolerance"]["T50_rel"]
    for curve, pixel in zip(curves, pixels, strict=True):
        t50 = DerivedMetric.objects.get(pixel=pixel, name="t50", superseded=False, aggregate="value")
        assert t50.value == pytest.approx(curve["T50_h"], rel=tol)
        # Not even a superseded row on this pixel carries another run's T50 (records are kept forever).
        for row in DerivedMetric.objects.filter(pixel=pixel, name="t50"):
            assert row.value == pytest.approx(curve["T50_h"], rel=tol), row.analysis_id
