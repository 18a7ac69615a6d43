"""Issue 14 defect 4 in real Chromium: on a device page's upload each chosen file gets a pixel
picker set from its file name; the person fixes the one without a token, and both files land on
that pixel and give the EQE."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from measurements.models import FileStatus, MeasurementFile
from tests.browser.conftest import login
from tests.browser.scenario import DATA, PASSWORD, build_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lab(transactional_db):
    return build_lab(measure_device_2=False)


def test_device_upload_asks_the_pixel_per_file(new_page, lab):
    device = lab["devices"][0]
    page = new_page(390, 844)  # the phone at the rig
    login(page, lab["user"].username, PASSWORD)
    page.goto(f"/devices/{device.label}/")
    page.get_by_role("link", name="Upload measurements").click()
    page.locator("#id_file").set_input_files([
        {"name": "sweep.csv", "mimeType": "text/csv", "buffer": (DATA / "jlv_sweep.csv").read_bytes()},
        {"name": "el_B_.txt", "mimeType": "text/plain", "buffer": (DATA / "el_spectrum.txt").read_bytes()},
    ])
    first, second = page.get_by_label("sweep.csv"), page.get_by_label("el_B_.txt")
    # The pickers come after the server has read the names (GET upload/pixels/); on CI's two busy
    # cores the live server took over expect()'s default 5 s once, so wait for them as for a page.
    expect(second).to_have_value("B", timeout=30_000)  # from its name
    expect(first).to_have_value("")  # its name names none
    assert MeasurementFile.objects.count() == 0  # nothing is sent before the pixels are confirmed
    first.select_option("B")
    page.get_by_role("button", name="Upload 2 files").click()
    page.locator("li.upload-row .badge-done").nth(1).wait_for(timeout=90_000)
    files = list(MeasurementFile.objects.all())
    assert {f.pixel.label for f in files} == {f"{device.label}-B"} and {f.status for f in files} == {FileStatus.DONE}
    eqe = page.locator('li.upload-row tr[data-metric="eqe_max"] td.num').first
    assert float(eqe.inner_text().split()[0]) == pytest.approx(18.0, abs=0.3)
