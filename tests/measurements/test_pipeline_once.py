"""Each analysis runs once (issue 15): a J-L-V/EL pair, or a device's lifetime runs, uploaded
together are analysed by exactly one task — the last of them to be read — and each input is
parsed once per analysis."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction

from measurements import services
from measurements.analysis import registry
from measurements.models import Analysis, DerivedMetric, FileStatus, MeasurementFile
from measurements.services import measurement_file_ingest

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit must fire: the task is enqueued on commit


@pytest.fixture
def device(demo):
    return demo["devices"]["QD-in-matrix LED, stack A"]


def _ingest(data_dir, name, device, pixel, **kw):
    content = (data_dir / "public" / name).read_bytes()
    return measurement_file_ingest(content=content, filename=name, sample=device.sample, pixel=pixel, **kw).file


def _counting(target):
    calls = []
    real = getattr(registry, target)

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    return calls, counted


@pytest.mark.parametrize("order", [("jlv_sweep.csv", "el_spectrum.txt"), ("el_spectrum.txt", "jlv_sweep.csv")])
def test_a_pair_committed_together_is_analysed_once(data_dir, answers, device, order):
    pixel = device.pixels.get(name="A")
    calls, counted = _counting("run_parsed")
    with mock.patch.object(services, "run_parsed", counted), transaction.atomic():
        files = [_ingest(data_dir, name, device, pixel) for name in order]  # both queued when the first task runs
    assert calls == ["jlv"]  # one analysis, by the second file's task
    first, second = (MeasurementFile.objects.get(pk=f.pk) for f in files)
    assert (first.status, second.status) == (FileStatus.DONE, FileStatus.DONE)
    assert first.metadata["paired_with"] == second.pk and "paired_with" not in second.metadata
    analysis = Analysis.objects.get(pixel=pixel, kind="jlv", superseded=False)
    assert set(analysis.sources.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert Analysis.objects.filter(kind="jlv").count() == 1
    eqe = DerivedMetric.objects.get(pixel=pixel, name="eqe_max", superseded=False)
    assert eqe.value == pytest.approx(answers["led"]["eqe_max_percent"], rel=answers["led"]["tolerance"]["eqe_rel"])


def test_the_file_being_processed_is_parsed_once(data_dir, device):
    pixel = device.pixels.get(name="A")
    _ingest(data_dir, "jlv_sweep.csv", device, pixel)  # read, then waits for its spectrum
    from measurements import parsers

    calls = []
    real = parsers.parse_bytes

    def counted(content, **kw):
        calls.append(kw.get("filename"))
        return real(content, **kw)

    with mock.patch.object(services, "parse_bytes", counted), mock.patch.object(registry, "parse_bytes", counted):
        _ingest(data_dir, "el_spectrum.txt", device, pixel, kind="el")
    # The upload sniffs, the worker reads the EL once (its own parse, reused for the pair) and the
    # partner J-L-V once for this analysis.
    assert sorted(calls) == ["el_spectrum.txt", "el_spectrum.txt", "jlv_sweep.csv"]


def test_a_partner_that_fails_wakes_the_file_that_waited_for_it(data_dir, device):
    pixel = device.pixels.get(name="B")
    with transaction.atomic():
        jlv = _ingest(data_dir, "jlv_sweep.csv", device, pixel)
        # A J-L-V table uploaded as the EL spectrum: stored, then failed by its own parse.
        bad = measurement_file_ingest(content=(data_dir / "public" / "jlv_sweep.csv").read_bytes() + b"\n",
                                      filename="not_a_spectrum.csv", sample=device.sample, pixel=pixel, kind="el").file
    bad.refresh_from_db()
    jlv.refresh_from_db()
    assert bad.status == FileStatus.FAILED
    # The J-L-V left the pair to it, was queued again when it failed, and now waits for a real spectrum.
    assert jlv.status == FileStatus.DONE and "EL spectrum" in jlv.metadata["waiting_for"], jlv.metadata
    assert "paired_with" not in jlv.metadata and jlv.attempts == 1


def test_lifetime_runs_committed_together_are_fitted_once(data_dir, answers, device):
    calls, counted = _counting("run_parsed")
    curves = answers["lifetime"]["curves"]
    with mock.patch.object(services, "run_parsed", counted), transaction.atomic():
        for curve, pixel in zip(curves, device.pixels.order_by("name"), strict=True):
            _ingest(data_dir, curve["file"], device, pixel)
    assert calls == ["lifetime"]
    n = DerivedMetric.objects.get(sample=device.sample, name="lifetime_acceleration_n", superseded=False)
    assert n.value == pytest.approx(answers["lifetime"]["n"], abs=answers["lifetime"]["tolerance"]["n_abs"])
    assert set(MeasurementFile.objects.filter(kind="lifetime").values_list("status", flat=True)) == {FileStatus.DONE}
