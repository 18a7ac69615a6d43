"""Real XRD exports the whole way: upload (no kind given) → task → stored metrics or a failure
reason, including the binary Bruker/Rigaku formats."""

from __future__ import annotations

import numpy as np
import pytest

from measurements.models import Analysis, DerivedMetric, FileStatus
from measurements.services import measurement_file_ingest
from tests.measurements.real_world import upload

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit must fire: the task is enqueued on commit


def current(sample, name):
    return DerivedMetric.objects.filter(sample=sample, name=name, superseded=False, aggregate="value")


def test_bruker_raw_upload_stores_the_rutile_cell(data_dir, demo):
    film = demo["film"]
    mf = upload(data_dir, "XRD_TiO2.raw", film)
    assert (mf.kind, mf.format, mf.status) == ("xrd", "bruker_raw", FileStatus.DONE)
    assert current(film, "lattice_constant").get().value == pytest.approx(4.5933, abs=0.005)  # ICDD rutile
    assert current(film, "lattice_constant_c").get().value == pytest.approx(2.9592, abs=0.005)
    assert not current(film, "crystallite_size").exists()  # 0.036° steps: no size, and the analysis says why
    analysis = Analysis.objects.get(sample=film, kind="xrd", superseded=False)
    assert any("not resolved" in w for w in analysis.warnings)


@pytest.mark.parametrize("name, fmt", [("XRD_TiOF.brml", "bruker_brml"), ("XRD_CG20396_jdb12-1.xrdml", "xrdml")])
def test_unindexable_patterns_store_no_lattice_constant(data_dir, demo, name, fmt):
    film = demo["film"]
    mf = upload(data_dir, name, film)
    assert (mf.kind, mf.format, mf.status) == ("xrd", fmt, FileStatus.DONE)
    assert current(film, "d_spacing").exists()
    assert not current(film, "lattice_constant").exists()
    size = current(film, "crystallite_size").get()
    assert size.flags == ["no_instrument_broadening"] or "no_instrument_broadening" in size.flags
    analysis = Analysis.objects.get(sample=film, kind="xrd", superseded=False)
    assert any("do not index" in w for w in analysis.warnings)


def test_rigaku_rasx_upload_stores_the_cubic_cell(data_dir, demo):
    film = demo["film"]
    mf = upload(data_dir, "XRD_JO_KL_16_ZF_3_60deg_0.02step_12degpermin_001.rasx", film)
    assert (mf.kind, mf.format, mf.status) == ("xrd", "rigaku_rasx", FileStatus.DONE)
    assert current(film, "lattice_constant").get().value == pytest.approx(16.991, abs=0.05)  # ZIF-8, I-43m


@pytest.mark.parametrize("name, reason", [
    ("XRD_example_bmb.xye", "no diffraction peak"),
    ("XRD_example_ocx.xy", "which is θ, not 2θ"),
    ("test_sample_xy.xy", "3 points: too few"),
])
def test_refusals_fail_the_file_with_the_reason(data_dir, demo, name, reason):
    mf = upload(data_dir, name, demo["film"], kind="xrd")
    assert mf.status == FileStatus.FAILED
    assert reason in mf.failure_reason and name in mf.failure_reason
    assert not current(demo["film"], "d_spacing").exists()


def test_a_multi_range_file_is_stored_and_a_map_fails_with_its_scan_count(demo):
    from tests.measurements.test_xrd_honesty import CUBIC_LINES, _xrdml, cubic_d, pattern

    x, y = pattern(cubic_d(6.0, CUBIC_LINES[:4]), [4000] * 4, step=0.02)
    cut = np.searchsorted(x, 22.0)
    ranges = _xrdml([(x[0], x[cut - 1], y[:cut], 0.0), (x[cut], x[-1], y[cut:], 0.0)])
    mf = measurement_file_ingest(content=ranges, filename="ranges.xrdml", sample=demo["film"]).file
    mf.refresh_from_db()
    assert (mf.kind, mf.status) == ("xrd", FileStatus.DONE)  # per-scan results; the file itself has no number
    rsm = _xrdml([(x[0], x[-1], y, off) for off in (-0.2, 0.0, 0.2)])
    mf = measurement_file_ingest(content=rsm, filename="map.xrdml", sample=demo["film"]).file
    mf.refresh_from_db()
    assert mf.status == FileStatus.FAILED and "3 scans" in mf.failure_reason and "map.xrdml" in mf.failure_reason
