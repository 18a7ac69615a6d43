"""What ingest promises (issue 11 §1 kind guessing, §2 re-analysis, §4 the 415/201 contract) and
how the pipeline stores multi-sample files and shows warnings and flags."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from measurements.analysis.registry import run
from measurements.models import Analysis, DerivedMetric, FileStatus, MeasurementFile
from measurements.parsers import ParsedData, kind_hint
from measurements.services import IngestError, guess_kind, measurement_file_ingest
from tests.api import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lab(db):
    proj = f.project("policy")
    owner = f.user("policy-owner", projects=[proj])
    return proj, owner


@pytest.fixture
def film(lab):
    return f.sample_create(project=lab[0], owner=lab[1], kind="film", name="QD film")


@pytest.fixture
def api(lab):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token(lab[1])}")
    return client


def _post(api, content: bytes, name: str, target: str, **fields):
    return api.post("/api/v1/measurements/", {"file": SimpleUploadedFile(name, content), "sample": target, **fields},
                    format="multipart")


def _spectrum(columns: list[str], metadata: dict | None = None) -> ParsedData:
    frame = pd.DataFrame({c: [1.0, 2.0, 3.0] for c in columns})
    return ParsedData(format="delimited_spectrum", shape="spectrum", data=frame, metadata=metadata or {})


# --- kind guessing ------------------------------------------------------------------------------

def test_a_transmission_or_raman_spectrum_never_becomes_pl(film):
    for parsed in (_spectrum(["wavelength_nm", "transmittance_percent"]),
                   _spectrum(["wavelength_nm", "intensity_counts"], {"y_unit": "%T"}),
                   _spectrum(["raman_shift_cm-1", "intensity_counts"], {"x_unit": "cm-1"})):
        guess = guess_kind(parsed, pixel=None, sample=film)
        assert guess.kind == "other" and guess.confident, parsed.data.columns.tolist()
        assert "not emission" in guess.evidence
    hint = guess_kind(_spectrum(["wavelength_nm", "intensity_counts"], {"kind_hint": kind_hint(["absorbance"], 0.9,
                                                                                                   "header 'Abs'")}),
                      pixel=None, sample=film)
    assert (hint.kind, hint.confident, hint.evidence) == ("absorbance", True, "header 'Abs'")


def test_a_spectrum_on_a_film_is_a_low_confidence_pl_guess_that_never_replaces_metrics(film, data_dir):
    first = measurement_file_ingest(content=(data_dir / "public/pl_spectrum.txt").read_bytes(), filename="pl.txt",
                                    sample=film, kind="pl").file
    first.refresh_from_db()
    assert first.status == FileStatus.DONE
    kept = DerivedMetric.objects.get(sample=film, name="pl_peak_wavelength", superseded=False)
    guessed = measurement_file_ingest(content=(data_dir / "public/pl_spectrum.txt").read_bytes() + b"\n",
                                      filename="unknown.txt", sample=film).file
    guessed.refresh_from_db()
    assert guessed.kind == "pl" and guessed.metadata["kind_guess"]["confident"] is False
    assert guessed.status == FileStatus.STORED
    assert "must not replace" in guessed.failure_reason and "guessed PL" in guessed.failure_reason
    assert DerivedMetric.objects.get(sample=film, name="pl_peak_wavelength", superseded=False) == kept
    # A person confirms the kind: now it is analysed and replaces the older metrics (kept, superseded).
    response = APIClient()
    response.force_authenticate(get_owner(film))
    answer = response.post(f"/api/v1/measurements/{guessed.pk}/reanalyze/", {"kind": "pl"}, format="json")
    assert answer.status_code == 202, answer.content
    guessed.refresh_from_db()
    assert guessed.status == FileStatus.DONE and "kind_guess" not in guessed.metadata
    kept.refresh_from_db()
    assert kept.superseded


def get_owner(sample):
    return sample.project.members.first()


def test_a_broken_file_without_a_kind_is_stored_with_the_reason_and_can_be_rerun_with_a_kind(api, lab, film, data_dir):
    # A J-L-V header the sniffer recognises, but no numbers under it: a ParseError at the door.
    response = _post(api, b"Voltage (V),Current (A),Luminance (cd/m2)\n1,2\n", "broken.csv", film.label)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "other" and body["status"] == "stored"
    assert body["failure_reason"].startswith("not analysed: broken.csv") and "re-analyse" in body["failure_reason"]
    # Re-run with a kind and a column map (the API's rescue): it is parsed again, now as what it is.
    answer = api.post(f"/api/v1/measurements/{body['id']}/reanalyze/",
                      {"kind": "jlv", "column_map": {"columns": {"voltage_v": 0, "current_a": 1}}}, format="json")
    assert answer.status_code == 202, answer.content
    mf = MeasurementFile.objects.get(pk=body["id"])
    assert mf.kind == "jlv" and mf.metadata["column_map"] == {"columns": {"voltage_v": 0, "current_a": 1}}
    assert mf.status == FileStatus.FAILED and "broken.csv" in mf.failure_reason  # one row is no sweep: said so


def test_the_415_201_contract_names_the_file(api, film, data_dir):
    junk = _post(api, b"\x00\x01\x02 not a text export \x00", "junk.bin", film.label)
    assert junk.status_code == 415 and "junk.bin" in junk.json()["error"]["message"]
    # Recognised (kind given) but broken: stored, failed with the reason naming the file.
    broken = _post(api, (data_dir / "public/xrd.xy").read_bytes()[:60], "short.xy", film.label, kind="xrd")
    assert broken.status_code == 201, broken.content
    mf = MeasurementFile.objects.get(pk=broken.json()["id"])
    assert mf.status == FileStatus.FAILED and "short.xy" in mf.failure_reason


# --- re-analysis ----------------------------------------------------------------------------------

def test_reposting_the_same_bytes_with_new_parameters_says_what_happened(api, film, data_dir):
    content = (data_dir / "public/xrd.xy").read_bytes()
    first = _post(api, content, "xrd.xy", film.label)
    assert first.status_code == 201
    assert _post(api, content, "xrd.xy", film.label).status_code == 200  # the same upload again: the record
    again = _post(api, content, "xrd.xy", film.label, parameters='{"scherrer_k": 0.94}')
    assert again.status_code == 409
    message = again.json()["error"]["message"]
    file_id = first.json()["id"]
    assert f"already stored as file {file_id}" in message and "were not applied" in message
    assert f"/api/v1/measurements/{file_id}/reanalyze/" in message


def test_reanalysis_with_new_parameters_keeps_the_old_analysis_superseded(api, film, data_dir, client):
    first = _post(api, (data_dir / "public/xrd.xy").read_bytes(), "xrd.xy", film.label).json()
    old = Analysis.objects.get(sample=film, kind="xrd", superseded=False)
    old_size = DerivedMetric.objects.get(analysis=old, name="crystallite_size")
    answer = api.post(f"/api/v1/measurements/{first['id']}/reanalyze/", {"parameters": {"scherrer_k": 1.8}}, format="json")
    assert answer.status_code == 202, answer.content
    new = Analysis.objects.get(sample=film, kind="xrd", superseded=False)
    old.refresh_from_db()
    assert new.pk != old.pk and old.superseded and new.parameters["scherrer_k"] == 1.8
    new_size = DerivedMetric.objects.get(analysis=new, name="crystallite_size")
    assert new_size.value == pytest.approx(2 * old_size.value, rel=1e-6)  # Scherrer: size ∝ K
    # Unknown parameters are refused with the known ones listed; nothing is queued.
    bad = api.post(f"/api/v1/measurements/{first['id']}/reanalyze/", {"parameters": {"pixel_area": 1}}, format="json")
    assert bad.status_code == 400 and "scherrer_k" in bad.json()["error"]["message"]
    # The web button does the same.
    client.force_login(get_owner(film))
    page = client.post(f"/measurements/{first['id']}/reanalyze/", {"parameters": "scherrer_k = 0.9"})
    assert page.status_code == 302
    assert Analysis.objects.get(sample=film, kind="xrd", superseded=False).parameters["scherrer_k"] == 0.9
    assert Analysis.objects.filter(sample=film, kind="xrd").count() == 3
    detail = client.get(f"/measurements/{first['id']}/").content.decode()
    assert "Re-analyse" in detail and "Superseded analyses" in detail
    # …and the command.
    out = io.StringIO()
    call_command("reanalyze", "--file", str(first["id"]), "--param", "scherrer_k=0.45", stdout=out)
    assert "Re-analysed 1 file(s): 1 done" in out.getvalue()
    assert Analysis.objects.get(sample=film, kind="xrd", superseded=False).parameters["scherrer_k"] == 0.45


# --- multi-sample files ---------------------------------------------------------------------------

def _two_sample_cary(data_dir) -> bytes:
    # The dialect file's blank is all zeros; make the second sample a weaker copy of the first
    # (half the absorbance), named "diluted".
    lines = (data_dir / "dialects/cary_absorbance.csv").read_text().splitlines()
    out = ["CsPbI3 QD film,,diluted,,", lines[1]]
    for line in lines[2:]:
        cells = line.split(",")
        try:
            x, a = float(cells[0]), float(cells[1])
        except (ValueError, IndexError):
            out.append(line)
            continue
        out.append(f"{x},{a},{x},{a / 2},")
    return ("\n".join(out) + "\n").encode()


def test_a_multi_sample_file_gives_one_analysis_per_sample(api, film, data_dir):
    response = _post(api, _two_sample_cary(data_dir), "cary_two.csv", film.label, kind="absorbance")
    assert response.status_code == 201
    mf = MeasurementFile.objects.get(pk=response.json()["id"])
    assert mf.status == FileStatus.DONE, mf.failure_reason
    analyses = {a.subject: a for a in Analysis.objects.filter(sample=film, kind="absorbance", superseded=False)}
    assert set(analyses) == {"CsPbI3 QD film", "diluted"}
    od = {s: DerivedMetric.objects.get(analysis=a, name="optical_density").value for s, a in analyses.items()}
    assert od["diluted"] == pytest.approx(od["CsPbI3 QD film"] / 2, rel=1e-6)
    single = run("absorbance", {"files": [("one.csv", (data_dir / "dialects/cary_absorbance.csv").read_bytes())]})
    film_alone = next(s for s in single.samples if s.sample == "CsPbI3 QD film")  # the file itself has two samples
    assert od["CsPbI3 QD film"] == pytest.approx(film_alone.metrics["optical_density"].value, rel=1e-9)
    assert DerivedMetric.objects.get(analysis=analyses["diluted"], name="optical_density").subject == "diluted"


def test_a_multi_sample_file_on_a_pixel_is_refused_with_the_list_of_samples(api, lab, data_dir):
    dev = f.device(lab[0], lab[1])
    response = _post(api, _two_sample_cary(data_dir), "cary_two.csv", dev.pixels.get(name="A").label, kind="absorbance")
    mf = MeasurementFile.objects.get(pk=response.json()["id"])
    assert mf.status == FileStatus.FAILED
    assert "2 samples in one file (CsPbI3 QD film, diluted)" in mf.failure_reason


# --- warnings and flags everywhere ------------------------------------------------------------------

def _plqy_pair(api, film, calibration_id=None):
    from tests.measurements.test_plqy_analysis import LASER_AREA_A, TRUE_PLQY, sphere_spectrum

    absorbed = 0.4
    extra = {"calibrations": str(calibration_id)} if calibration_id else {}
    empty = _post(api, sphere_spectrum(LASER_AREA_A, 0.0, 1), "A.csv", film.label, kind="plqy",
                  metadata='{"role": "empty"}', **extra)
    in_beam = _post(api, sphere_spectrum(LASER_AREA_A * (1 - absorbed), TRUE_PLQY * absorbed * LASER_AREA_A, 3),
                    "C.csv", film.label, kind="plqy", metadata='{"role": "in_beam"}', **extra)
    return empty.json(), in_beam.json()


def test_plqy_on_uncalibrated_counts_warns_and_a_sphere_calibration_scales_it(api, film):
    from django.utils import timezone

    from measurements.models import Instrument
    from measurements.services import calibration_add

    _, in_beam = _plqy_pair(api, film)
    analysis = Analysis.objects.get(sample=film, kind="plqy", superseded=False)
    assert any("uncalibrated counts" in w for w in analysis.warnings)
    plqy = DerivedMetric.objects.get(analysis=analysis, name="plqy")
    assert plqy.flags == ["uncalibrated"] and plqy.value == pytest.approx(62.0, abs=0.5)
    # Response 1 at the laser (405 nm), 0.5 over the emission (≥ 520 nm): the emission counts halve.
    rig = Instrument.objects.create(name="sphere")
    table = "\n".join(f"{w},{1.0 if w < 500 else 0.5 if w >= 520 else 1 - (w - 500) / 40}" for w in range(370, 811))
    cal = calibration_add(instrument=rig, role="sphere", content=f"wavelength_nm,response\n{table}\n".encode(),
                          filename="sphere_cal.csv", valid_from=timezone.now())
    answer = api.post(f"/api/v1/measurements/{in_beam['id']}/reanalyze/", {"calibrations": [cal.pk]}, format="json")
    assert answer.status_code == 202, answer.content
    calibrated = Analysis.objects.get(sample=film, kind="plqy", superseded=False)
    assert list(calibrated.calibrations.all()) == [cal]
    assert not any("uncalibrated" in w for w in calibrated.warnings)
    value = DerivedMetric.objects.get(analysis=calibrated, name="plqy")
    assert value.flags == [] and value.value == pytest.approx(31.0, abs=0.3)


def test_warnings_and_flags_are_in_the_api_and_the_export(api, film, data_dir):
    from measurements.api import export

    _, response = _plqy_pair(api, film)
    body = api.get(f"/api/v1/measurements/{response['id']}/").json()
    analysis = Analysis.objects.get(sample=film, kind="plqy", superseded=False)
    assert analysis.warnings
    assert body["analyses"][0]["warnings"] == analysis.warnings
    flagged = [m for m in body["metrics"] if m["flags"]]
    assert flagged and all(m["warnings"] == analysis.warnings for m in body["metrics"])
    listed = api.get("/api/v1/metrics/", {"sample": film.label}).json()["results"]
    assert all("flags" in m and "warnings" in m for m in listed)
    table = export.MetricsTable(DerivedMetric.objects.filter(sample=film, superseded=False), get_owner(film))
    row = dict(zip(table.header, next(iter(table.rows())), strict=True))
    assert analysis.warnings[0] in row["warnings"]
    assert flagged[0]["name"] in row["flags"] and flagged[0]["flags"][0] in row["flags"]


def test_ingest_refuses_two_calibrations_of_one_role(film, data_dir):
    from django.utils import timezone

    from measurements.models import Calibration, Instrument

    rig = Instrument.objects.create(name="sphere rig")
    cals = [Calibration.objects.create(instrument=rig, role="sphere", file="x", sha256=str(i) * 64, original_name="c",
                                       valid_from=timezone.now()) for i in range(2)]
    with pytest.raises(IngestError, match="one calibration per role"):
        measurement_file_ingest(content=b"x", filename="pl.txt", sample=film, calibrations=cals)
