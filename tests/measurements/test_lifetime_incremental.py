"""A new lifetime run updates its device's fit without re-fitting every run (issue 15): each run is
fitted once, when it arrives; the acceleration fit across runs is recomputed from the stored
per-run results and equals a from-scratch analysis of every run."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from measurements import services
from measurements.analysis import lifetime
from measurements.analysis.registry import run
from measurements.models import Analysis, DerivedMetric
from measurements.services import measurement_file_ingest

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit must fire: the task is enqueued on commit

# The fifth run: L0 = 600 cd/m² on the public runs' law (n = 1.95, T50 = 2100 h at 100 cd/m²,
# answers.json), a stretched exponential with β = 0.8 like theirs, run to 1.6·T50, 0.2 % noise.
L0_5, BETA_5 = 600.0, 0.8
T50_5 = 2100.0 * (100.0 / L0_5) ** 1.95  # 64.2 h
TAU_5 = T50_5 / np.log(2) ** (1 / BETA_5)


def _fifth_run() -> bytes:
    t = np.linspace(0, 1.6 * T50_5, 400)
    lum = L0_5 * np.exp(-((t / TAU_5) ** BETA_5)) * (1 + np.random.default_rng(5).normal(0, 0.002, t.size))
    rows = "\n".join(f"{a:.5f},{b:.2f},4.100" for a, b in zip(t, lum, strict=True))
    return f"# constant current 20 mA/cm2\nTime (h),Luminance (cd/m2),Voltage (V)\n{rows}\n".encode()


@pytest.fixture
def device(demo):
    return demo["devices"]["QD-in-matrix LED, stack A"]


def _counting_fits():
    fitted: list[str] = []
    real = lifetime.analyse_one

    def counted(parsed):
        fitted.append(parsed.source)
        return real(parsed)

    return fitted, mock.patch.object(lifetime, "analyse_one", counted)


def _current(device, name):
    return DerivedMetric.objects.get(device=device, scope="device", name=name, superseded=False, aggregate="value")


def test_each_run_is_fitted_once_and_the_device_fit_equals_a_fit_from_scratch(data_dir, answers, device):
    curves = answers["lifetime"]["curves"]
    pixels = list(device.pixels.order_by("name"))
    contents = [(c["file"], (data_dir / "public" / c["file"]).read_bytes()) for c in curves]
    fitted, counting = _counting_fits()
    with counting:
        for (name, content), pixel in zip(contents, pixels, strict=True):
            measurement_file_ingest(content=content, filename=name, sample=device.sample, pixel=pixel, kind="lifetime")
    assert fitted == [c["file"] for c in curves]  # four files, four fits (was 1 + 2 + 3 + 4)

    fifth = ("lifetime_5.csv", _fifth_run())
    fitted, counting = _counting_fits()
    with counting:
        measurement_file_ingest(content=fifth[1], filename=fifth[0], sample=device.sample, pixel=pixels[0],
                                kind="lifetime")
    assert fitted == ["lifetime_5.csv"]  # only the new run

    scratch = run("lifetime", {"files": [*contents, fifth]})  # every run fitted from its bytes
    for name in ("lifetime_acceleration_n", "t50_at_100_cd"):
        stored = _current(device, name)
        assert stored.value == pytest.approx(scratch.metrics[name].value, rel=1e-12)
        assert stored.uncertainty == pytest.approx(scratch.metrics[name].uncertainty, rel=1e-12)
    # ... and that is the known answer: the fifth run lies on the public runs' law.
    tol = answers["lifetime"]["tolerance"]
    assert _current(device, "lifetime_acceleration_n").value == pytest.approx(answers["lifetime"]["n"], abs=tol["n_abs"])
    assert _current(device, "t50_at_100_cd").value == pytest.approx(answers["lifetime"]["T50_at_100_h"],
                                                                    rel=tol["T50_100_rel"])
    analysis = Analysis.objects.get(sample=device.sample, pixel=None, kind="lifetime", superseded=False)
    assert [e["file"] for e in analysis.result["per_file"]] == [c["file"] for c in curves] + ["lifetime_5.csv"]
    assert analysis.result["per_file"] == [{**e, "run_basis": mock.ANY} for e in jsonable_per_file(scratch)]
    assert analysis.result["metrics"]["lifetime_acceleration_n"]["extra"]["runs"] == 5
    # The new run's own T50 is that of its pixel (the later of its two runs), by construction 64.2 h.
    t50 = DerivedMetric.objects.get(pixel=pixels[0], name="t50", superseded=False, aggregate="value")
    assert t50.value == pytest.approx(T50_5, rel=tol["T50_rel"])
    assert t50.value == scratch.per_file[4]["metrics"]["t50"]["value"]


def jsonable_per_file(result):
    from measurements.analysis.base import jsonable

    return jsonable(result.per_file)


def test_a_run_stored_on_another_basis_is_fitted_again(data_dir, answers, device):
    """A stored run counts only for the same file, method version, parse options and parameters:
    after a method version change every run is fitted again."""
    curves = answers["lifetime"]["curves"][:2]
    pixels = list(device.pixels.order_by("name"))
    for curve, pixel in zip(curves, pixels[:2], strict=True):
        measurement_file_ingest(content=(data_dir / "public" / curve["file"]).read_bytes(), filename=curve["file"],
                                sample=device.sample, pixel=pixel, kind="lifetime")
    fitted, counting = _counting_fits()
    with counting, mock.patch("measurements.lifetime_runs.get_spec") as spec:
        spec.return_value.version = "new"
        third = answers["lifetime"]["curves"][2]["file"]
        measurement_file_ingest(content=(data_dir / "public" / third).read_bytes(), filename=third,
                                sample=device.sample, pixel=pixels[2], kind="lifetime")
    assert sorted(fitted) == sorted(c["file"] for c in answers["lifetime"]["curves"][:3])


def test_a_forced_reanalysis_fits_every_run(data_dir, answers, device):
    curves = answers["lifetime"]["curves"][:3]
    pixels = list(device.pixels.order_by("name"))
    files = [measurement_file_ingest(content=(data_dir / "public" / c["file"]).read_bytes(), filename=c["file"],
                                     sample=device.sample, pixel=p, kind="lifetime").file
             for c, p in zip(curves, pixels[:3], strict=True)]
    fitted, counting = _counting_fits()
    with counting:
        services.measurement_file_process(files[1].pk, force=True)
    assert sorted(fitted) == sorted(c["file"] for c in curves)
