"""Exchange endpoints, pages and commands: each returns what it says, refuses with a reason, and
never shows another project's records."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from exchange.eln import MEDIA_TYPE, read_eln
from exchange.models import Printer, PrintJob
from samples.models import Sample

from .conftest import error_of
from .printer_listener import PrinterListener

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listener():
    server = PrinterListener()
    yield server
    server.close()


def test_project_eln_over_the_api(world, client_for):
    response = client_for(world.alice).get("/api/v1/exchange/projects/alpha/eln/")
    assert response.status_code == 200 and response["Content-Type"] == MEDIA_TYPE
    archive = read_eln(response.content)
    labels = {d.identifier for d in archive.datasets}
    assert world.dev_a.sample.label in labels and world.dev_b.sample.label not in labels
    assert client_for(world.alice).get("/api/v1/exchange/projects/beta/eln/").status_code == 404
    assert client_for(None).get("/api/v1/exchange/projects/alpha/eln/").status_code == 401


def test_samples_eln_checks_its_labels(world, client_for):
    client = client_for(world.alice)
    assert error_of(client.get("/api/v1/exchange/samples/eln/"))["fields"]["samples"]
    assert client.get(f"/api/v1/exchange/samples/eln/?samples={world.dev_b.sample.label}").status_code == 404
    ok = client.get(f"/api/v1/exchange/samples/eln/?samples={world.dev_a.sample.label}")
    assert ok.status_code == 200 and zipfile.ZipFile(io.BytesIO(ok.content)).testzip() is None


def test_import_over_the_api(world, client_for):
    content = client_for(world.alice).get("/api/v1/exchange/projects/alpha/eln/").content
    upload = io.BytesIO(content)
    upload.name = "alpha.eln"
    response = client_for(world.alice).post("/api/v1/exchange/eln-import/", {"file": upload, "project": "alpha-copy"},
                                            format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "LEDger" and len(body["samples"]) == Sample.objects.filter(project__code="alpha-copy").count()
    bad = io.BytesIO(b"not a zip")
    bad.name = "x.eln"
    refused = client_for(world.alice).post("/api/v1/exchange/eln-import/", {"file": bad, "project": "x"}, format="multipart")
    assert "not a ZIP" in error_of(refused)["fields"]["file"][0]
    station = client_for(world.station).post("/api/v1/exchange/eln-import/", {"file": io.BytesIO(content), "project": "x"},
                                             format="multipart")
    assert station.status_code == 403


def test_peled_over_the_api(world, client_for):
    client = client_for(world.alice)
    csv = client.get("/api/v1/exchange/peled/?format=csv")
    assert csv.status_code == 200
    frame = pd.read_csv(io.BytesIO(csv.content), dtype=str, keep_default_na=False)
    assert list(frame["Ref_ID"]) == [world.dev_a.sample.label]  # not beta's device
    xlsx = client.get("/api/v1/exchange/peled/?format=xlsx&project=alpha")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get("/api/v1/exchange/peled/?format=pdf").status_code == 404  # DRF: no renderer for that format


def test_print_job_over_the_api(world, client_for, listener, settings):
    settings.SITE_URL = "https://ledger.lab"
    Printer.objects.create(name="Zebra 1", kind="zebra_zpl", host="127.0.0.1", port=listener.port)
    client = client_for(world.alice)
    label = world.dev_a.sample.label
    response = client.post("/api/v1/print-jobs/", {"printer": "Zebra 1", "sample": label}, format="json")
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/print-jobs/{response.json()['id']}/").json()
    assert job["status"] == "sent" and job["url"] == f"https://ledger.lab/samples/{label}/"
    assert client_for(world.bob).get(f"/api/v1/print-jobs/{job['id']}/").status_code == 404
    assert client.post("/api/v1/print-jobs/", {"printer": "Zebra 1", "sample": world.dev_b.sample.label},
                       format="json").status_code == 404
    assert error_of(client.post("/api/v1/print-jobs/", {"printer": "nope", "sample": label}, format="json"))["fields"]["printer"]
    assert [p["name"] for p in client.get("/api/v1/printers/").json()] == ["Zebra 1"]


def test_pages_buttons_and_print_flow(world, listener):
    web = Client()
    web.force_login(world.alice)
    label = world.dev_a.sample.label
    page = web.get(f"/samples/{label}/").content.decode()
    assert f'href="/exchange/print/sample/{label}/"' in page and f'href="/exchange/samples/{label}.eln"' in page
    run = world.dev_a.sample.produced_by
    assert f'href="/exchange/print/run/{run.pk}/"' in web.get(f"/samples/runs/{run.pk}/").content.decode()
    home = web.get("/exchange/")
    assert home.status_code == 200 and b"/exchange/projects/alpha.eln" in home.content and b"beta" not in home.content
    assert web.get(f"/exchange/samples/{label}.eln")["Content-Type"] == MEDIA_TYPE
    assert web.get(f"/exchange/samples/{world.dev_b.sample.label}.eln").status_code == 404
    printer = Printer.objects.create(name="Brother 1", kind="brother_ql", model="QL-820NWB", label="62x29",
                                     host="127.0.0.1", port=listener.port)
    response = web.post(f"/exchange/print/sample/{label}/", {"printer": printer.pk})
    job = PrintJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exchange/print-jobs/{job.pk}/"
    status = web.get(response["Location"]).content.decode()
    assert 'id="job-status">Sent<' in status
    assert web.get(f"/exchange/print/run/{run.pk}/").status_code == 200
    assert web.get("/exchange/print/run/abc/").status_code == 404
    assert web.get("/exchange/peled.csv").status_code == 200 and web.get("/exchange/peled.pdf").status_code == 404


def test_import_page(world):
    web = Client()
    web.force_login(world.alice)
    content = web.get("/exchange/projects/alpha.eln").content
    upload = io.BytesIO(content)
    upload.name = "alpha.eln"
    response = web.post("/exchange/import/", {"file": upload, "project": "alpha-web"})
    assert response.status_code == 200 and b"Written by LEDger" in response.content
    bad = io.BytesIO(b"junk")
    bad.name = "junk.eln"
    refused = web.post("/exchange/import/", {"file": bad, "project": "x"}, follow=True)
    assert b"not imported" in refused.content and b"not a ZIP" in refused.content


def test_commands(world, tmp_path, capsys):
    out = tmp_path / "alpha.eln"
    call_command("export_eln", "--project", "alpha", "-o", str(out))
    assert read_eln(out.read_bytes()).is_ledger
    call_command("import_eln", str(out), "--project", "alpha-cli")
    assert Sample.objects.filter(project__code="alpha-cli").exists()
    call_command("export_peled", "--project", "alpha", "-o", str(tmp_path / "d.xlsx"))
    assert (tmp_path / "d.xlsx").read_bytes()[:2] == b"PK"
    with pytest.raises(CommandError, match="not imported"):
        (tmp_path / "bad.eln").write_bytes(b"nope")
        call_command("import_eln", str(tmp_path / "bad.eln"), "--project", "x")
    with pytest.raises(CommandError, match="one of the two"):
        call_command("export_eln")
