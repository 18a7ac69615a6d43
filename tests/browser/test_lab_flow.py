"""The issue's end-to-end flow in real headless Chromium: log in → plan a run from the
QD-in-matrix film recipe with one deviation → see it flagged → upload the public J-L-V + EL pair
to a pixel → see eqe_max appear → open Compare with two devices."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.scenario import DATA, PASSWORD, build_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lab(transactional_db):
    return build_lab()


@pytest.fixture
def light_lab(transactional_db):
    return build_lab(measure_device_2=False)  # no analyses: seconds faster


def test_plan_upload_compare(new_page, lab):
    page = new_page(1280)
    login(page, lab["user"].username, PASSWORD)

    # Plan a run: 250 µL of QD ink against a 100–200 µL range turns red as it is typed.
    page.goto(f"/samples/runs/plan/{lab['recipes']['film'].pk}/")
    volume = page.get_by_label("QD ink volume", exact=True)
    volume.fill("250")
    row = page.locator('tr.param-row[data-path="4.volume"]')
    assert "deviation" in (volume.get_attribute("class") or "")
    assert "outside planned range" in row.inner_text()
    page.get_by_role("button", name="Save run").click()
    page.wait_for_url(re.compile(r"/samples/runs/\d+/$"))
    flagged = page.locator('tr.deviation[data-path="4.volume"]')
    assert flagged.count() == 1 and "250" in flagged.inner_text()

    # Upload the pair to pixel A of device 1: the row settles with eqe_max ≈ 18.0 %.
    pixel = lab["devices"][0].device.pixels.get(name="A").label
    page.goto(f"/measurements/upload/?target={pixel}")
    page.locator("#id_file").set_input_files([str(DATA / "jlv_sweep.csv"), str(DATA / "el_spectrum.txt")])
    eqe = page.locator('li.upload-row tr[data-metric="eqe_max"] td.num').first
    eqe.wait_for(timeout=90_000)
    assert float(eqe.inner_text().split()[0]) == pytest.approx(18.0, abs=0.3)
    # The other row settles on its next poll (≤ 1 s): both files share the J-L-V + EL analysis.
    page.locator("li.upload-row .badge-done").nth(1).wait_for()
    assert page.locator("li.upload-row .badge-done").count() == 2
    expect(page.locator('li.upload-row tr[data-metric="eqe_max"]')).to_have_count(2)
    # Drawn by charts.js from the stored curves: J-V, L-V, EQE-J, EL, CIE per row.
    expect(page.locator("li.upload-row .plot .chart svg")).to_have_count(10)

    # Compare both devices from the picker; the result is a deep link.
    page.goto("/measurements/compare/")
    for dev in lab["devices"]:
        page.get_by_role("checkbox", name=re.compile(dev.label)).check()
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"samples="))
    assert page.locator("#metrics-table tbody tr").count() == 2
    eqe_panel = page.locator('.chart[data-panel="eqe_j"]')
    assert eqe_panel.locator("svg path[stroke]").count() == 2
    legend = eqe_panel.locator(".chart-legend li")
    assert legend.count() == 2


def test_upload_refuses_unknown_format_with_reason(new_page, light_lab, tmp_path):
    lab = light_lab
    page = new_page(800)
    login(page, lab["user"].username, PASSWORD)
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01garbage\xff" * 20)
    page.goto(f"/measurements/upload/?target={lab['devices'][0].label}")
    page.locator("#id_file").set_input_files(str(junk))
    # A device target: the file first gets its pixel picker (issue 14); its name names none.
    page.get_by_role("button", name="Upload 1 file").click()
    row = page.locator("li.upload-row.state-failed")
    row.wait_for()
    assert "Refused" in row.locator(".badge").inner_text()
    assert row.locator(".upload-msg").inner_text().strip()
