"""Instrument calibrations through the pipeline (issue 11 §2): the photodiode J-L-V route from
upload with the real responsivity file, validity dates, a file naming its own calibration, and
the API / admin ways of attaching them."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from measurements.models import Analysis, CalibrationRole, DerivedMetric, FileStatus, Instrument
from measurements.services import IngestError, calibration_add, measurement_file_ingest
from tests.api import factories as f

pytestmark = pytest.mark.django_db(transaction=True)

R_555_A_PER_W = 0.34925  # Responsivity_PD.txt at 555 nm (read off the file: 0.3483 at 554, 0.3502 at 556)
V_555 = 0.99998  # CIE 1924 V(λ) averaged over the 1 nm line at 555 nm


@pytest.fixture
def rig(db):
    return Instrument.objects.create(name="Keithley + Si photodiode", kind="jlv",
                                     settings={"photodiode_radius_mm": 10, "photodiode_distance_mm": 10})


@pytest.fixture
def device(db):
    proj = f.project("cal")
    owner = f.user("cal-owner", projects=[proj])
    return f.device(proj, owner), owner


def _add(rig, data_dir, path, *, valid_from, role=CalibrationRole.PHOTODIODE_RESPONSIVITY, valid_until=None):
    return calibration_add(instrument=rig, role=role, content=(data_dir / path).read_bytes(), filename=path.split("/")[-1],
                           valid_from=valid_from, valid_until=valid_until)


def _pair(data_dir, pixel, owner, *, rig, measured_at, **kw):
    jlv = measurement_file_ingest(content=(data_dir / "dialects/jlv_photodiode.csv").read_bytes(),
                                  filename="jlv_photodiode.csv", sample=pixel.device.sample, pixel=pixel,
                                  instrument=rig, measured_at=measured_at, user=owner, **kw).file
    el = measurement_file_ingest(content=(data_dir / "dialects/el_line_555.txt").read_bytes(), filename="el_line_555.txt",
                                 sample=pixel.device.sample, pixel=pixel, user=owner).file
    return jlv, el


def _expected_luminance(r_a_per_w: float) -> float:
    # L = Km·V·I_pd/(sin²α·R·π·A) at 3 V: I_pd = 1 µA, sin²α = 1/2 (radius = distance), A = 0.09 cm²
    return 683 * V_555 * 1e-6 / (0.5 * r_a_per_w * math.pi * 9e-6)


def test_the_photodiode_route_works_from_upload_with_the_real_responsivity(rig, device, data_dir):
    dev, owner = device
    cal = _add(rig, data_dir, "real-world/Responsivity_PD.txt", valid_from=timezone.now() - dt.timedelta(days=365))
    pixel = dev.pixels.get(name="A")
    jlv, el = _pair(data_dir, pixel, owner, rig=rig, measured_at=timezone.now() - dt.timedelta(days=1))
    jlv.refresh_from_db()
    el.refresh_from_db()
    assert (jlv.status, el.status) == (FileStatus.DONE, FileStatus.DONE), (jlv.failure_reason, el.failure_reason)
    analysis = Analysis.objects.get(pixel=pixel, kind="jlv", superseded=False)
    assert list(analysis.calibrations.all()) == [cal]
    assert analysis.parameters["luminance_source"] == "photodiode"
    peak = DerivedMetric.objects.get(pixel=pixel, name="luminance_max", superseded=False)
    # the sweep's last point (5 V) carries 10 µA: ten times the 3 V point's photocurrent
    assert peak.value == pytest.approx(5 * _expected_luminance(R_555_A_PER_W), rel=5e-3)


def test_a_file_uses_the_calibration_valid_when_it_was_measured(rig, device, data_dir):
    dev, owner = device
    now = timezone.now()
    old = _add(rig, data_dir, "dialects/responsivity_flat.csv", valid_from=now - dt.timedelta(days=800),
               valid_until=now - dt.timedelta(days=100))
    new = _add(rig, data_dir, "real-world/Responsivity_PD.txt", valid_from=now - dt.timedelta(days=100))
    a, b = dev.pixels.get(name="A"), dev.pixels.get(name="B")
    _pair(data_dir, a, owner, rig=rig, measured_at=now - dt.timedelta(days=200))
    # a second copy of the bytes for pixel B (the sha256 is unique lab-wide)
    jlv_b = measurement_file_ingest(content=(data_dir / "dialects/jlv_photodiode.csv").read_bytes() + b"\n",
                                    filename="jlv_photodiode.csv", sample=dev.sample, pixel=b, instrument=rig,
                                    measured_at=now - dt.timedelta(days=10)).file
    measurement_file_ingest(content=(data_dir / "dialects/el_line_555.txt").read_bytes() + b"\n",
                            filename="el_line_555.txt", sample=dev.sample, pixel=b)
    assert list(Analysis.objects.get(pixel=a, kind="jlv", superseded=False).calibrations.all()) == [old]
    assert list(Analysis.objects.get(pixel=b, kind="jlv", superseded=False).calibrations.all()) == [new]
    lum_a = DerivedMetric.objects.get(pixel=a, name="luminance_max", superseded=False).value
    lum_b = DerivedMetric.objects.get(pixel=b, name="luminance_max", superseded=False).value
    assert lum_a == pytest.approx(5 * _expected_luminance(0.5), rel=5e-3)  # the flat 0.5 A/W file
    assert lum_a / lum_b == pytest.approx(R_555_A_PER_W / 0.5, rel=5e-3)
    assert jlv_b.pk


def test_a_file_may_name_its_own_calibration(rig, device, data_dir):
    dev, owner = device
    now = timezone.now()
    _add(rig, data_dir, "real-world/Responsivity_PD.txt", valid_from=now - dt.timedelta(days=100))
    flat = _add(rig, data_dir, "dialects/responsivity_flat.csv", valid_from=now - dt.timedelta(days=900),
                valid_until=now - dt.timedelta(days=800))
    pixel = dev.pixels.get(name="A")
    _pair(data_dir, pixel, owner, rig=rig, measured_at=now, calibrations=[flat])
    assert list(Analysis.objects.get(pixel=pixel, kind="jlv", superseded=False).calibrations.all()) == [flat]


def test_without_a_calibration_the_photodiode_route_says_what_is_missing(rig, device, data_dir):
    dev, owner = device
    _, el = _pair(data_dir, dev.pixels.get(name="A"), owner, rig=rig, measured_at=timezone.now())
    el.refresh_from_db()  # the pair is analysed when its second file (here the spectrum) arrives
    assert el.status == FileStatus.FAILED and "responsivity" in el.failure_reason


def test_a_calibration_that_is_not_a_curve_is_refused(rig):
    with pytest.raises(IngestError) as err:
        calibration_add(instrument=rig, role=CalibrationRole.PHOTODIODE_RESPONSIVITY, content=b"\x00\x01binary",
                        filename="cal.bin", valid_from=timezone.now())
    assert err.value.code == "unsupported_media" and "cal.bin" in str(err.value)
    with pytest.raises(IngestError, match="after"):
        calibration_add(instrument=rig, role=CalibrationRole.SPHERE, content=b"400 1\n500 1\n600 1\n700 1\n",
                        filename="s.txt", valid_from=timezone.now(), valid_until=timezone.now() - dt.timedelta(days=1))


def test_the_api_adds_a_calibration_and_an_upload_names_it(rig, device, data_dir):
    from rest_framework.test import APIClient

    dev, owner = device
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token(owner)}")
    response = client.post("/api/v1/calibrations/", {
        "file": SimpleUploadedFile("Responsivity_PD.txt", (data_dir / "real-world/Responsivity_PD.txt").read_bytes()),
        "instrument": rig.name, "role": "photodiode_responsivity", "valid_from": "2020-01-01T00:00:00Z"},
        format="multipart")
    assert response.status_code == 201, response.content
    cal_id = response.json()["id"]
    assert client.get("/api/v1/calibrations/").json()["results"][0]["id"] == cal_id
    pixel = dev.pixels.get(name="A")
    response = client.post("/api/v1/measurements/", {
        "file": SimpleUploadedFile("jlv_photodiode.csv", (data_dir / "dialects/jlv_photodiode.csv").read_bytes()),
        "sample": pixel.label, "instrument": rig.name, "calibrations": str(cal_id)}, format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["calibrations"] == [cal_id]
    bad = client.post("/api/v1/measurements/", {
        "file": SimpleUploadedFile("el.txt", (data_dir / "dialects/el_line_555.txt").read_bytes()),
        "sample": pixel.label, "calibrations": "9999"}, format="multipart")
    assert bad.status_code == 400 and "no calibration 9999" in bad.json()["error"]["message"]


def test_the_admin_adds_a_calibration(rig, data_dir, client):
    from django.contrib.auth import get_user_model

    boss = get_user_model().objects.create_superuser("cal-admin", password="x")
    client.force_login(boss)
    response = client.post("/admin/measurements/calibration/add/", {
        "instrument": rig.pk, "role": "photodiode_responsivity", "valid_from_0": "2024-01-01", "valid_from_1": "00:00:00",
        "notes": "from the supplier", "upload": SimpleUploadedFile("Responsivity_PD.txt",
                                                                   (data_dir / "real-world/Responsivity_PD.txt").read_bytes())})
    assert response.status_code == 302, response.content.decode()[:3000]
    cal = rig.calibrations.get()
    assert cal.original_name == "Responsivity_PD.txt" and len(cal.sha256) == 64 and cal.uploaded_by == boss
    assert client.get(f"/admin/measurements/instrument/{rig.pk}/change/").status_code == 200
