"""Issue 14 defect 1 in real Chromium: saving a first O₂ reading on the log page leaves the run in
progress with its planned outputs; completing is its own page that lists what it will create."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from samples.models import ProcessRun, RunStatus
from tests.browser.conftest import login
from tests.browser.scenario import PASSWORD, build_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lab(transactional_db):
    return build_lab(measure_device_2=False)


def test_log_page_saves_without_completing_then_complete_confirms(new_page, lab):
    page = new_page(1024)  # the glovebox tablet
    login(page, lab["user"].username, PASSWORD)
    page.goto(f"/samples/runs/plan/{lab['recipes']['film'].pk}/")
    page.get_by_label("Planned output samples").fill("2")
    page.get_by_label("Names of the outputs (one per line, optional)").fill("left half\nright half")
    page.get_by_label("Where the outputs will be kept").fill("Glovebox 2, tray B")
    page.get_by_role("button", name="Save run").click()
    page.wait_for_url(re.compile(r"/samples/runs/\d+/$"))
    run = ProcessRun.objects.order_by("-id").first()
    assert run.status == RunStatus.PLANNED and run.planned_outputs == 2

    # The log page shows the plan and has nothing ticked that would complete the run.
    page.get_by_role("link", name="Log actual values").click()
    summary = page.locator("#planned-outputs-summary")
    expect(summary).to_contain_text("2 × Film")
    expect(summary).to_contain_text("Glovebox 2, tray B")
    assert page.locator('input[name="complete"]').count() == 0
    page.get_by_label("Glovebox O₂ (ppm)").fill("0.4")
    page.get_by_role("button", name="Save actual values").click()
    page.wait_for_url(re.compile(r"/samples/runs/\d+/$"))
    expect(page.locator("h1 .badge")).to_have_text("In progress")
    expect(page.get_by_text("not created yet")).to_be_visible()
    run.refresh_from_db()
    assert run.status == RunStatus.IN_PROGRESS and run.started_at and not run.outputs.exists()

    # Completing: a page that lists the two samples, and a button that says what it does.
    page.get_by_role("link", name="Complete run…").click()
    table = page.locator("#outputs-to-create tbody tr")
    expect(table).to_have_count(2)
    expect(table.nth(0)).to_contain_text("left half")
    expect(table.nth(1)).to_contain_text("Glovebox 2, tray B")
    page.get_by_role("button", name="Complete run and create 2 samples").click()
    page.wait_for_url(re.compile(r"/samples/runs/\d+/$"))
    expect(page.locator("h1 .badge")).to_have_text("Completed")
    run.refresh_from_db()
    names = list(run.outputs.order_by("id").values_list("name", flat=True))
    assert run.status == RunStatus.COMPLETED and names == ["left half", "right half"]
    for label in run.outputs.values_list("label", flat=True):
        expect(page.get_by_role("link", name=label)).to_be_visible()
