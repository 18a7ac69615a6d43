"""Print a sample's label on a Brother QL and on a Zebra through a real TCP socket, then decode
what the 'printer' received: the Brother raster with brother_ql's own reader and the QR read by
zbarimg from that raster; the ZPL parsed back. The URL must be SITE_URL/… of the sample."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from PIL import ImageChops

from exchange.models import Printer, PrintJobStatus
from exchange.printers.brother import decode_brother_job, label_size_px
from exchange.printers.label import LabelContent, render_label
from exchange.printers.zpl import parse_zpl, zpl_job
from exchange.services import print_job_send, print_label, sample_label_content
from samples.models import Project, SampleKind
from samples.services import sample_create

from .printer_listener import PrinterListener

pytestmark = pytest.mark.django_db(transaction=True)  # the print task runs on commit


@pytest.fixture
def listener():
    server = PrinterListener()
    yield server
    server.close()


@pytest.fixture
def sample(settings):
    settings.SITE_URL = "https://ledger.example.org"
    user = get_user_model().objects.create_user("maria", first_name="Maria", last_name="Sklodowska")
    project = Project.objects.create(code="labels", name="Labels")
    return sample_create(kind=SampleKind.QD_INK, project=project, owner=user, name="Treated QD ink, batch 3")


def zbar(png: Path) -> list[str]:
    if not shutil.which("zbarimg"):
        if os.environ.get("CI") == "true":
            pytest.fail("zbarimg is required in CI (apt-get install -y zbar-tools)")
        pytest.skip("zbarimg not installed")
    out = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
                         capture_output=True, text=True, check=False)
    return out.stdout.split()


@pytest.mark.parametrize("label", ["62", "62x29"])
def test_brother_job_decodes_to_the_sample_url_and_its_text(listener, sample, label):
    printer = Printer.objects.create(name="Glovebox Brother", kind="brother_ql", model="QL-820NWB", label=label,
                                     host="127.0.0.1", port=listener.port)
    job = print_label(printer=printer, sample=sample)  # on commit → Celery task (in-process) → socket
    job.refresh_from_db()
    assert job.status == PrintJobStatus.SENT, job.failure_reason
    (received,) = listener.wait_for(1)
    assert job.bytes_sent == len(received)
    (page,) = decode_brother_job(received)
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "label.png"
        page.save(png)
        assert zbar(png) == [f"https://ledger.example.org/samples/{sample.label}/"]
    # The printed text: the decoded raster is pixel for pixel the label rendered with the expected text
    # (and not with another title), found where the printer's margin places it.
    title, url, lines = sample_label_content(sample)
    assert (title, lines[1]) == (sample.label, "Treated QD ink, batch 3")
    width, height = label_size_px(label)
    expected = render_label(LabelContent(title, url, tuple(lines)), width, height)
    other = render_label(LabelContent("INK-9999", url, tuple(lines)), width, height)
    assert page.height == height

    def matches(image) -> bool:
        return any(ImageChops.difference(page.crop((x, 0, x + width, height)).convert("L"), image.convert("L")).getbbox() is None
                   for x in range(page.width - width + 1))

    assert matches(expected)
    assert not matches(other)


def test_zebra_job_parses_to_the_sample_url_and_its_text(listener, sample):
    printer = Printer.objects.create(name="Bench Zebra", kind="zebra_zpl", host="127.0.0.1", port=listener.port,
                                     width_mm=50.8, height_mm=25.4, dpi=203)
    job = print_label(printer=printer, sample=sample)
    job.refresh_from_db()
    assert job.status == PrintJobStatus.SENT, job.failure_reason
    (received,) = listener.wait_for(1)
    (label,) = parse_zpl(received)
    assert label.qr_payloads == [f"https://ledger.example.org/samples/{sample.label}/"]
    title, _, lines = sample_label_content(sample)
    assert label.texts == [title, *lines]
    assert (label.width_dots, label.length_dots) == (406, 203)  # 50.8 × 25.4 mm at 203 dpi


def test_zpl_field_data_cannot_inject_commands():
    job = zpl_job(LabelContent("S^XZ~JR", "https://x.org/a_b/", ("line ^FS",)))
    (label,) = parse_zpl(job)
    assert label.texts == ["S^XZ~JR", "line ^FS"] and label.qr_payloads == ["https://x.org/a_b/"]


def test_an_unreachable_printer_fails_the_job_with_the_reason(sample, listener):
    port = listener.port
    listener.close()  # nothing listens there any more
    printer = Printer.objects.create(name="Off", kind="zebra_zpl", host="127.0.0.1", port=port)
    job = print_label(printer=printer, sample=sample)
    job.refresh_from_db()
    assert job.status == PrintJobStatus.FAILED
    assert "refused the connection" in job.failure_reason


def test_a_redelivered_task_does_not_print_twice(listener, sample):
    printer = Printer.objects.create(name="Z", kind="zebra_zpl", host="127.0.0.1", port=listener.port)
    job = print_label(printer=printer, sample=sample)
    print_job_send(job.pk)  # the task again (acks_late redelivery)
    assert len(listener.wait_for(2, timeout_s=0.5)) == 1


def test_run_label(listener, sample, demo_run):
    printer = Printer.objects.create(name="Z2", kind="zebra_zpl", host="127.0.0.1", port=listener.port)
    print_label(printer=printer, run=demo_run)
    (label,) = parse_zpl(listener.wait_for(1)[0])
    assert label.qr_payloads == [f"https://ledger.example.org/samples/runs/{demo_run.pk}/"]
    assert label.texts[0] == demo_run.label and label.texts[1] == demo_run.recipe_version.recipe.name


@pytest.fixture
def demo_run(sample):
    from recipes.models import StepType
    from recipes.services import ParamSpec, StepSpec, recipe_create
    from samples.services import run_plan

    recipe = recipe_create(name="PMMA interlayer", step_type=StepType.SPIN_COATING, output_kind=SampleKind.FILM, user=None,
                           steps=[StepSpec("Spin", "spin", params=[ParamSpec(key="speed", name="Speed", nominal=3000, unit="rpm")])])
    return run_plan(version=recipe, project=sample.project)  # recipe_create returns the first version
