"""File → task → stored metrics, the whole way (tasks run in-process; see test_celery_worker.py
for the same path through a real worker)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from measurements.models import Analysis, DerivedMetric, FileStatus, MeasurementFile, Plot
from measurements.services import (
    IngestError,
    claim,
    fail_stale_files,
    measurement_file_ingest,
    measurement_file_process,
    measurement_files_reanalyze,
    sweep_files,
)

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit must fire: the task is enqueued on commit


@pytest.fixture
def pixel(demo):
    return demo["devices"]["QD-in-matrix LED, stack A"].pixels.get(name="A")


def upload(data_dir, name, target, *, pixel=None, folder="public", **kw):
    content = (data_dir / folder / name).read_bytes()
    return measurement_file_ingest(content=content, filename=name, sample=target, pixel=pixel, **kw).file


def current(pixel_or_sample, name):
    field = "pixel" if hasattr(pixel_or_sample, "area_cm2") else "sample"
    rows = DerivedMetric.objects.filter(**{field: pixel_or_sample}, name=name, superseded=False, aggregate="value")
    return rows.get()


def test_jlv_and_el_pair_gives_the_reference_led_metrics(data_dir, answers, pixel):
    led = answers["led"]
    tol = led["tolerance"]
    jlv = upload(data_dir, "jlv_sweep.csv", pixel.device.sample, pixel=pixel)
    jlv.refresh_from_db()
    assert jlv.status == FileStatus.DONE and "EL spectrum" in jlv.metadata["waiting_for"]
    assert not DerivedMetric.objects.filter(pixel=pixel).exists()

    el = upload(data_dir, "el_spectrum.txt", pixel.device.sample, pixel=pixel)  # second arrival triggers the pair
    el.refresh_from_db()
    assert (el.status, el.kind, el.format, el.attempts) == (FileStatus.DONE, "el", "oceanview", 1)
    assert current(pixel, "eqe_max").value == pytest.approx(led["eqe_max_percent"], rel=tol["eqe_rel"])
    assert current(pixel, "eqe_max").unit == "%"
    assert current(pixel, "eqe_at_100_ma_cm2").value == pytest.approx(led["eqe_at_100mA_cm2_percent"], rel=tol["eqe_rel"])
    assert current(pixel, "j_at_eqe_max").value == pytest.approx(led["j_at_eqe_max_mA_cm2"], rel=0.02)
    assert current(pixel, "luminance_max").value == pytest.approx(led["luminance_max_cd_m2"], rel=tol["L_rel"])
    assert current(pixel, "current_efficiency_max").value == pytest.approx(led["current_efficiency_max_cd_A"], rel=tol["L_rel"])
    assert current(pixel, "power_efficacy_max").value == pytest.approx(led["power_efficacy_max_lm_W"], rel=tol["L_rel"])
    assert current(pixel, "turn_on_voltage").value == pytest.approx(led["turn_on_voltage_V_at_1cd"], abs=tol["turn_on_V"])
    assert current(pixel, "el_peak_wavelength").value == pytest.approx(led["el_peak_nm"], abs=tol["peak_nm"])
    assert current(pixel, "el_fwhm").value == pytest.approx(led["el_fwhm_nm"], abs=tol["fwhm_nm"])
    assert current(pixel, "cie_x").value == pytest.approx(led["cie_x"], abs=tol["cie"])
    assert current(pixel, "cie_y").value == pytest.approx(led["cie_y"], abs=tol["cie"])

    analysis = Analysis.objects.get(pixel=pixel, superseded=False, kind="jlv")
    assert set(analysis.sources.values_list("original_name", flat=True)) == {"jlv_sweep.csv", "el_spectrum.txt"}
    assert analysis.parameters["pixel_area_cm2"] == 0.09
    assert (analysis.method, analysis.version) == ("led.jlv_el", "1.1")
    # Its figures are stored as curves for the browser; none is drawn in the pipeline (issue 15).
    assert [c["name"] for c in analysis.result["charts"]] == ["jv", "lv", "eqe_j", "el_spectrum", "cie"]
    assert not Plot.objects.filter(analysis=analysis).exists()

    # Device roll-up: best pixel and median with the pixel count.
    best = DerivedMetric.objects.get(device=pixel.device, scope="device", aggregate="best", name="eqe_max", superseded=False)
    assert best.n_pixels == 1 and best.extra["pixel"] == pixel.label
    assert best.value == pytest.approx(led["eqe_max_percent"], rel=tol["eqe_rel"])


def test_a_newer_spectrum_reruns_the_pair_and_supersedes_the_old_metrics(data_dir, pixel):
    upload(data_dir, "jlv_sweep.csv", pixel.device.sample, pixel=pixel)
    upload(data_dir, "el_spectrum.txt", pixel.device.sample, pixel=pixel)
    first = current(pixel, "el_peak_wavelength")
    # A spectrum of a green line instead: the newer spectrum wins, the old rows stay, superseded.
    upload(data_dir, "el_line_555.txt", pixel.device.sample, pixel=pixel, folder="dialects", kind="el")
    newer = current(pixel, "el_peak_wavelength")
    assert newer.pk != first.pk and newer.value == pytest.approx(555, abs=2)
    first.refresh_from_db()
    assert first.superseded
    assert DerivedMetric.objects.filter(pixel=pixel, name="eqe_max").count() == 2


def test_the_same_bytes_uploaded_twice_give_the_same_record(data_dir, demo):
    film = demo["film"]
    a = upload(data_dir, "pl_spectrum.txt", film)
    b = upload(data_dir, "pl_spectrum.txt", film)
    assert a.pk == b.pk and MeasurementFile.objects.count() == 1
    with pytest.raises(IngestError) as exc:  # same bytes, another sample: refused, not silently relinked
        upload(data_dir, "pl_spectrum.txt", demo["control_film"])
    assert exc.value.code == "conflict" and film.label in str(exc.value)


def test_other_kinds_go_the_whole_way(data_dir, answers, demo):
    film = demo["film"]
    pl = upload(data_dir, "pl_spectrum.txt", film)
    trpl = upload(data_dir, "trpl.dat", film)
    xrd = upload(data_dir, "xrd.xy", film)
    for f in (pl, trpl, xrd):
        f.refresh_from_db()
        assert f.status == FileStatus.DONE, f.failure_reason
    assert (pl.kind, trpl.kind, xrd.kind) == ("pl", "trpl", "xrd")  # sniffed: a spectrum on a film is PL
    assert current(film, "pl_peak_wavelength").value == pytest.approx(answers["pl"]["peak_nm"], abs=1.0)
    assert current(film, "pl_fwhm").value == pytest.approx(answers["pl"]["fwhm_nm"], abs=1.5)
    assert current(film, "tau_avg").value == pytest.approx(answers["trpl"]["tau_avg_intensity_weighted_ns"], rel=0.1)
    assert current(film, "lattice_constant").value == pytest.approx(answers["xrd"]["cubic_a_A"], abs=0.01)
    assert current(film, "crystallite_size").value == pytest.approx(answers["xrd"]["scherrer_nm_K0.9_first_peak"], rel=0.1)


def test_lifetime_runs_of_one_device_give_the_acceleration_fit(data_dir, answers, demo):
    device = demo["devices"]["QD-in-matrix LED, stack A"]
    for name, pixel in zip([c["file"] for c in answers["lifetime"]["curves"]], device.pixels.all(), strict=True):
        upload(data_dir, name, device.sample, pixel=pixel)
    n = DerivedMetric.objects.get(device=device, scope="device", name="lifetime_acceleration_n", superseded=False)
    t50_100 = DerivedMetric.objects.get(device=device, scope="device", name="t50_at_100_cd", superseded=False)
    assert n.value == pytest.approx(answers["lifetime"]["n"], abs=answers["lifetime"]["tolerance"]["n_abs"])
    assert t50_100.value == pytest.approx(answers["lifetime"]["T50_at_100_h"], rel=answers["lifetime"]["tolerance"]["T50_100_rel"])
    assert t50_100.unit == "h" and n.uncertainty is not None
    for curve, pixel in zip(answers["lifetime"]["curves"], device.pixels.all(), strict=True):
        assert current(pixel, "t50").value == pytest.approx(curve["T50_h"], rel=answers["lifetime"]["tolerance"]["T50_rel"])


def test_reanalyze_adds_rows_and_marks_the_old_ones_superseded(data_dir, demo):
    film = demo["film"]
    upload(data_dir, "xrd.xy", film)
    old = current(film, "lattice_constant")
    counts = measurement_files_reanalyze(kind="xrd", sample=film)
    assert counts == {"done": 1}
    new = current(film, "lattice_constant")
    old.refresh_from_db()
    assert new.pk != old.pk and old.superseded and new.value == pytest.approx(old.value)
    assert Analysis.objects.filter(sample=film, kind="xrd").count() == 2


# --- bad input: a reason a person can act on, never a crash or an invented number ----------

def test_an_empty_file_is_refused_at_the_door(demo):
    with pytest.raises(IngestError, match="empty"):
        measurement_file_ingest(content=b"", filename="empty.csv", sample=demo["film"])


def test_binary_junk_is_refused_as_an_unknown_format(demo):
    with pytest.raises(IngestError) as exc:
        measurement_file_ingest(content=bytes(range(256)) * 40, filename="junk.bin", sample=demo["film"])
    assert exc.value.code == "unsupported_media" and "binary" in str(exc.value)


def test_a_solar_cell_jv_file_fails_with_a_clear_reason(data_dir, pixel):
    mf = upload(data_dir, "HZB_MiGo_20230913_Batch-Test-1_0_0.notessfdsf.jv.txt", pixel.device.sample, pixel=pixel,
                folder="real", kind="jlv")
    upload(data_dir, "el_spectrum.txt", pixel.device.sample, pixel=pixel)
    mf.refresh_from_db()
    assert mf.status == FileStatus.FAILED
    assert "no luminance or photodiode column" in mf.failure_reason
    assert not DerivedMetric.objects.filter(pixel=pixel, name="eqe_max").exists()


def test_a_spectrum_with_no_emission_fails(data_dir, pixel):
    mf = upload(data_dir, "el_no_emission.txt", pixel.device.sample, pixel=pixel, folder="dialects", kind="el")
    mf.refresh_from_db()
    assert mf.status == FileStatus.FAILED and "emission" in mf.failure_reason


def test_duplicated_and_non_monotonic_voltages_are_handled(data_dir, answers, pixel):
    upload(data_dir, "el_spectrum.txt", pixel.device.sample, pixel=pixel)
    mf = upload(data_dir, "jlv_up_down_duplicates.csv", pixel.device.sample, pixel=pixel, folder="dialects")
    mf.refresh_from_db()
    assert mf.status == FileStatus.DONE, mf.failure_reason
    # The file is the public sweep run up and back down with repeated voltages: same answers.
    led = answers["led"]
    assert current(pixel, "eqe_max").value == pytest.approx(led["eqe_max_percent"], rel=led["tolerance"]["eqe_rel"])
    assert current(pixel, "turn_on_voltage").value == pytest.approx(led["turn_on_voltage_V_at_1cd"], abs=led["tolerance"]["turn_on_V"])


def test_a_zero_pixel_area_fails_with_a_reason(data_dir, pixel):
    upload(data_dir, "el_spectrum.txt", pixel.device.sample, pixel=pixel)
    mf = upload(data_dir, "jlv_sweep.csv", pixel.device.sample, pixel=pixel, parameters={"pixel_area_cm2": 0})
    mf.refresh_from_db()
    assert mf.status == FileStatus.FAILED and "pixel area must be positive" in mf.failure_reason


def test_a_lifetime_whose_luminance_never_falls_fails(data_dir, pixel):
    mf = upload(data_dir, "lifetime_flat.csv", pixel.device.sample, pixel=pixel, folder="dialects", kind="lifetime")
    mf.refresh_from_db()
    assert mf.status == FileStatus.FAILED and "never falls" in mf.failure_reason


def test_an_xrd_file_without_wavelength_and_instrument_asks_for_it(data_dir, demo):
    mf = upload(data_dir, "xrd_no_wavelength.xy", demo["film"], folder="dialects", kind="xrd")
    mf.refresh_from_db()
    assert mf.status == FileStatus.FAILED and "wavelength" in mf.failure_reason


def test_no_file_stays_running_forever(data_dir, demo, settings):
    mf = upload(data_dir, "xrd.xy", demo["film"])
    long_ago = timezone.now() - dt.timedelta(hours=3)
    # A worker died mid-analysis: the sweep puts the file back and sends it again (eager: it runs).
    MeasurementFile.objects.filter(pk=mf.pk).update(status=FileStatus.RUNNING, started_at=long_ago, attempts=1)
    assert sweep_files() == {"requeued": 1, "failed": 0, "sent": 1}
    mf.refresh_from_db()
    assert mf.status == FileStatus.DONE and mf.attempts == 2
    # Started LEDGER_MAX_ATTEMPTS times and never finished: failed with the reason, not retried forever.
    MeasurementFile.objects.filter(pk=mf.pk).update(status=FileStatus.RUNNING, started_at=long_ago,
                                                    attempts=settings.LEDGER_MAX_ATTEMPTS)
    assert fail_stale_files() == 1
    mf.refresh_from_db()
    assert mf.status == FileStatus.FAILED and "never finished" in mf.failure_reason
    # …and a stale claim can be taken over by the next worker.
    MeasurementFile.objects.filter(pk=mf.pk).update(
        status=FileStatus.RUNNING, attempts=1,
        started_at=timezone.now() - dt.timedelta(seconds=settings.LEDGER_STALE_CLAIM_S + 5))
    assert measurement_file_process(mf.pk) == FileStatus.DONE
    assert not claim(mf.pk)  # done files are not claimed again unless forced


def test_a_metric_the_newer_analysis_no_longer_gives_does_not_stay_current(data_dir, demo):
    film = demo["film"]
    mf = upload(data_dir, "xrd.xy", film)
    old = Analysis.objects.get(sample=film, kind="xrd", superseded=False)
    DerivedMetric.objects.create(name="retired_metric", value=1.0, unit="", sample=film, analysis=old,
                                 method=old.method, version="0.9")  # as if an older method had reported it
    measurement_file_process(mf.pk, force=True)
    assert not DerivedMetric.objects.filter(name="retired_metric", superseded=False).exists()
    assert current(film, "lattice_constant").analysis.superseded is False
