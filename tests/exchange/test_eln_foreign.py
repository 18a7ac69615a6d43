"""Archives from other ELNs: their datasets become samples of kind 'other' with the metadata in
the notes and the dataset's JSON-LD attached; their files come in through the normal ingest (a
file LEDger can read is analysed); what cannot come in is named in a warning."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from exchange.eln import ElnArchive, ElnDataset, ElnFile, Property, write_eln
from exchange.services import ImportRefused, eln_import
from measurements.models import DerivedMetric, FileStatus, MeasurementFile
from samples.models import Sample, SampleKind

DATA = Path(__file__).parents[1] / "data"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def user():
    return get_user_model().objects.create_user("chemist", first_name="Ana", last_name="Chem")


def test_elabftw_experiment(user):
    result = eln_import((DATA / "eln" / "elabftw-single-experiment.eln").read_bytes(), project_code="from-elab", user=user)
    assert result.source == "eLabFTW"
    (sample,) = result.samples
    assert sample.kind == SampleKind.OTHER and sample.label.startswith("ELN-")
    assert sample.name == "Testing the eLabFTW lab notebook"
    assert "author: Toto Le sysadmin" in sample.notes
    assert "keywords: demo, test" in sample.notes
    assert "Click everywhere and explore everything." in sample.notes and "<p>" not in sample.notes
    assert "url: https://elab.local:3148/experiments.php?mode=view&id=264" in sample.notes
    assert sorted(w.split(":")[0] for w in result.warnings) == ["example.pdf", "example.png", "export-elabftw.json"]
    # The dataset's own metadata node comes along as an attachment, so nothing the ELN said is lost.
    (node_file,) = MeasurementFile.objects.filter(sample=sample)
    assert node_file.original_name == "eln-metadata.json" and node_file.status == FileStatus.STORED
    with node_file.file.open("rb") as fh:
        assert json.load(fh)["identifier"] == "20230928-b6db898e231dbc2234227d19656d7e19a77654b7"


def test_kadi4mat_collection(user):
    result = eln_import((DATA / "eln" / "kadi4mat-collections-example.eln").read_bytes(), project_code="from-kadi", user=user)
    assert result.source == "Kadi4Mat"
    assert [s.name for s in result.samples] == ["Scripts used in the experiment", "Instrument-used-in-experiment",
                                               "Generated files during experiment", "Characterization of a Sample"]
    assert "author: Manideep Jayavarapu" in result.samples[0].notes
    assert "keywords: high-resolution electron microscopy, instrument" in result.samples[1].notes
    assert len(result.warnings) == 13  # every listed file (4 + 4 + 3 + 2), named, none present
    assert any(w.startswith("Test_experiment.csv: listed in the metadata but not in the archive") for w in result.warnings)


def test_foreign_files_come_in_through_ingest_and_are_analysed(user, answers):
    pl = (DATA / "public" / "pl_spectrum.txt").read_bytes()
    notes = b"free text that no parser reads\n"
    archive = ElnArchive(root="other-eln", name="Other ELN export", publisher="SomeELN", datasets=[ElnDataset(
        "./film 7/", "Film 7", description="<p>spin-coated</p>", properties=[Property("thickness", "thickness", 40, "nm")],
        files=[ElnFile("film 7/pl.txt", pl, "pl.txt", "text/plain"), ElnFile("film 7/notes.txt", notes, "notes.txt", "text/plain")])])
    result = eln_import(write_eln(archive), project_code="other", user=user)
    (sample,) = result.samples
    assert "thickness: 40 nm" in sample.notes and "spin-coated" in sample.notes
    files = {mf.original_name: mf for mf in MeasurementFile.objects.filter(sample=sample)}
    assert files["pl.txt"].sha256 == hashlib.sha256(pl).hexdigest() and files["pl.txt"].status == FileStatus.DONE
    assert files["notes.txt"].status == FileStatus.STORED  # kept as an attachment
    peak = DerivedMetric.objects.current().get(sample=sample, name="pl_peak_wavelength")
    assert peak.value == pytest.approx(answers["pl"]["peak_nm"], abs=0.5)


def test_refusals_say_why_and_import_nothing(user):
    with pytest.raises(ImportRefused, match="not a ZIP"):
        eln_import(b"PK\x03\x04 truncated", project_code="x", user=user)
    empty = write_eln(ElnArchive(root="empty", name="Empty", publisher="SomeELN"))
    with pytest.raises(ImportRefused, match="nothing to import"):
        eln_import(empty, project_code="x", user=user)
    assert not Sample.objects.exists()
