"""The scale fixture (portal/scale.py, ``manage.py load_scale``) at a hundredth of its size: the
shape issue 15 measured, consistent enough for the pages to run on it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count

from core.access import restrict
from core.models import next_label
from devices.models import Device, Layer, Pixel
from measurements.models import Analysis, DerivedMetric, MeasurementFile
from portal import scale
from samples.models import ProcessRun, RunValue, Sample, SampleParent


@pytest.fixture
def loaded(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return scale.load(0.01, log=lambda *_: None)


def test_counts_follow_the_scale(loaded):
    # 30 runs of each chemistry step make 60 QD batches, inks and precursors; 60 film runs 120 films;
    # 150 device runs 400 devices (8 per 3 runs); 300 substrates.
    assert Sample.objects.count() == 1000 == loaded.counts["samples_sample"]
    assert dict(Sample.objects.values_list("kind").annotate(n=Count("id")).order_by()) == {
        "qd_batch": 60, "qd_ink": 60, "precursor_solution": 60, "film": 120, "device": 400, "substrate": 300}
    assert ProcessRun.objects.count() == 300
    assert RunValue.objects.count() == 300 * 10 + 150  # ten parameters a run, eleven on the device recipe
    assert Device.objects.count() == 400 and Pixel.objects.count() == 1600 and Layer.objects.count() == 2000
    links = SampleParent.objects.count()
    # 1.29 a sample at full scale (129k); fewer here, where a project's first runs have no parents yet
    assert 700 < links < 1300
    measured = Device.objects.filter(sample__metrics__isnull=False).distinct().count()
    assert 40 <= measured <= 120  # a fifth of the devices were measured
    assert Analysis.objects.count() == measured * 4 * scale.ROUNDS
    assert MeasurementFile.objects.count() == 2 * Analysis.objects.count()
    per_round = 4 * len(scale.PIXEL_METRICS) + len(scale.ROLLUPS)
    assert DerivedMetric.objects.count() == measured * scale.ROUNDS * per_round
    # a fifth current: one current analysis per measured pixel, every older one superseded
    assert Analysis.objects.filter(superseded=False).count() == measured * 4
    assert DerivedMetric.objects.filter(superseded=False).count() == measured * per_round


def test_lineage_and_metrics_are_consistent(loaded):
    current = Analysis.objects.filter(superseded=False).select_related("pixel__device")
    assert all(a.pixel.device.sample_id == a.sample_id for a in current)
    assert all("eqe_percent" in a.result["arrays"] for a in current[:5])  # real stored curves
    assert not Analysis.objects.filter(superseded=True, result__arrays__has_key="eqe_percent").exists()
    best = DerivedMetric.objects.filter(superseded=False, name="eqe_max", aggregate="best").first()
    pixels = DerivedMetric.objects.filter(superseded=False, name="eqe_max", device=best.device, scope="pixel")
    assert best.value == max(m.value for m in pixels) and best.n_pixels == 4
    film = SampleParent.objects.filter(child__kind="film").first()
    assert film.parent.kind in ("qd_ink", "precursor_solution")
    dev = Sample.objects.filter(kind="device").order_by("pk").first()
    assert dev.label == "DEV-0001" and Device.objects.get(sample=dev).pixels.order_by("name").first().label == "DEV-0001-A"
    assert next_label("DEV") == "DEV-0401"  # the counters continue after the loaded labels


def test_users_see_their_projects(loaded):
    User = get_user_model()
    alice, lead, admin = (User.objects.get(username=u) for u in ("alice", "lead", "admin"))
    assert set(alice.ledger_projects.values_list("code", flat=True)) == {"p01"}
    assert lead.ledger_projects.count() == scale.LEAD_PROJECTS and admin.is_superuser
    total = Sample.objects.count()
    seen_by_alice = restrict(Sample.objects.all(), alice).count()
    seen_by_lead = restrict(Sample.objects.all(), lead).count()
    assert 0 < seen_by_alice < seen_by_lead < total
    assert alice.check_password(scale.PASSWORD)


def test_loading_twice_is_refused(loaded):
    with pytest.raises(CommandError, match="already has samples"):
        call_command("load_scale", "--scale", "0.01")
