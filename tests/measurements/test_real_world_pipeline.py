"""Real-world files (tests/data/real-world/) the whole way: upload → task → stored metrics, warnings
and flags (tasks in-process). Multi-sample files (Cary CSVs) wait for the ingest service to store
one analysis per sample (issue 11 §2); their per-sample results are asserted through the CLI."""

from __future__ import annotations

import pytest

from measurements.models import Analysis, DerivedMetric, FileStatus
from tests.measurements.real_world import upload

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit must fire: the task is enqueued on commit


def current(sample, name):
    return DerivedMetric.objects.get(sample=sample, name=name, superseded=False, aggregate="value")


def test_jasco_nir_exciton_stored_and_the_missing_od_warned(data_dir, demo):
    film = demo["film"]
    mf = upload(data_dir, "JASCO_PbSe_batch_1.txt", film)
    assert (mf.status, mf.kind, mf.format) == (FileStatus.DONE, "absorbance", "jasco")
    assert current(film, "first_exciton_peak_wavelength").value == pytest.approx(1445, abs=10)
    assert not DerivedMetric.objects.filter(sample=film, name="optical_density").exists()
    analysis = Analysis.objects.get(sample=film, kind="absorbance")
    assert any("od_wavelength_nm" in w for w in analysis.warnings)


def test_perkinelmer_transmission_uploaded_without_a_kind_is_not_pl(data_dir, demo):
    mf = upload(data_dir, "Sample5926.Probe.Raw.asc", demo["film"])
    assert (mf.kind, mf.format) == ("absorbance", "perkinelmer_asc")
    assert not DerivedMetric.objects.filter(sample=demo["film"], name__startswith="pl_").exists()


def test_a_raman_spectrum_uploaded_as_pl_fails_with_the_reason(data_dir, demo):
    mf = upload(data_dir, "raman_labspec_raman_example.txt", demo["film"], kind="pl")
    assert mf.status == FileStatus.FAILED
    assert "Raman shift in cm⁻¹" in mf.failure_reason and "raman_labspec_raman_example.txt" in mf.failure_reason
    assert not DerivedMetric.objects.filter(sample=demo["film"]).exists()


def test_luqy_pro_results_stored_with_their_flag(data_dir, demo):
    film = demo["film"]
    mf = upload(data_dir, "100_40-1.abspl.txt", film)
    assert (mf.status, mf.kind, mf.format) == (FileStatus.DONE, "pl", "luqy_pro")
    plqy = current(film, "plqy")
    assert (plqy.value, plqy.unit, plqy.flags) == (0.04, "%", ["instrument_reported"])
    assert current(film, "qfls").value == pytest.approx(1.172)
    assert current(film, "pl_peak_energy").value == pytest.approx(1.671, abs=0.01)


def test_fapbi3_tcspc_in_ps_stores_a_microsecond_lifetime(data_dir, demo):
    film = demo["film"]
    mf = upload(data_dir, "M0-FAPI3Q6-Spot2_5400s_10kHz_ND1_210cps_0.0209011uW.trpl.dat", film)
    assert (mf.status, mf.kind, mf.format) == (FileStatus.DONE, "trpl", "tcspc_two_column")
    tau = current(film, "tau_avg")
    assert tau.unit == "ns" and 1_000 < tau.value < 20_000


def test_a_three_point_file_of_a_named_kind_fails_saying_too_few_points(data_dir, demo):
    mf = upload(data_dir, "test_sample_xy.xy", demo["film"], kind="pl")
    assert mf.status == FileStatus.FAILED
    assert "3 points: too few" in mf.failure_reason and "test_sample_xy.xy" in mf.failure_reason
