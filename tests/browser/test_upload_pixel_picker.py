"""Issue 14 defect 4 in real Chromium: on a device page's upload each chosen file gets a pixel
picker set from its file name; the person fixes the one without a token, and both files land on
that pixel and give the EQE. Files chosen before the page's script ran are not left behind."""

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
    # The rig's slow Wi-Fi: upload.js arrives only after the files are chosen, so their change event
    # fires with no one listening (CI once lost the pickers this way: the click's navigation had
    # committed but the deferred script had not run). The page must take them when it starts.
    held = []
    page.route("**/static/js/upload.js*", lambda route: held.append(route))
    page.get_by_role("link", name="Upload measurements").click()
    page.wait_for_url("**/measurements/upload/**", wait_until="commit")
    page.locator("#id_file").set_input_files([
        {"name": "sweep.csv", "mimeType": "text/csv", "buffer": (DATA / "jlv_sweep.csv").read_bytes()},
        {"name": "el_B_.txt", "mimeType": "text/plain", "buffer": (DATA / "el_spectrum.txt").read_bytes()},
    ])
    assert page.evaluate("() => document.querySelector('#id_file').files.length") == 2
    for _ in range(200):  # the held request reaches its handler as Playwright's loop turns
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1 and page.locator("#pixel-staging").is_hidden()
    held[0].continue_()
    first, second = page.get_by_label("sweep.csv"), page.get_by_label("el_B_.txt")
    # The pickers come after the server has read the names (GET upload/pixels/); wait for them as
    # for a page on CI's two busy cores.
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
