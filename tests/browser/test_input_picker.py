"""Issue 14: the plan form's input-sample picker on a 390 px phone, in real Chromium — search by a
loosely typed label, filter by kind, tick, save; with 150 candidates, and nothing wider than the
screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from samples.models import ProcessRun
from samples.services import sample_create
from tests.browser.conftest import login
from tests.browser.scenario import PASSWORD, build_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lab(transactional_db):
    lab = build_lab(measure_device_2=False)
    lab["qds"] = [sample_create(kind="qd_batch", project=lab["project"], owner=lab["user"], name=f"CsPbI₃ QDs {i}")
                  for i in range(150)]
    return lab


def test_phone_picker_searches_filters_by_kind_and_saves_the_ticked(new_page, lab):
    page = new_page(390, 844)
    login(page, lab["user"].username, PASSWORD)
    page.goto(f"/samples/runs/plan/{lab['recipes']['film'].pk}/")
    items = page.locator("#input-list li")
    expect(items).to_have_count(50)  # the newest 50 of 150+, not all of them

    oldest = lab["qds"][0]  # QD-0001: not among the 50 listed
    search = page.get_by_label("Search input samples")
    search.fill("qd1")  # typed loosely: QD-0001 first
    expect(items.first).to_contain_text(oldest.label)
    items.first.locator("input[type=checkbox]").check()
    expect(page.locator("#input-picker-status")).to_contain_text("found")

    # The kind filter narrows to films; the ticked QD batch stays listed and ticked.
    search.fill("")
    page.get_by_label("Kind of input sample").select_option("film")
    film = lab["films"][0]
    expect(page.locator("#input-list li", has_text=film.label)).to_have_count(1)
    expect(page.locator("#input-list li", has_text="QD-0002")).to_have_count(0)
    expect(page.locator(f"#id_inputs_{oldest.pk}")).to_be_checked()
    page.locator(f"#id_inputs_{film.pk}").check()
    search.press("Enter")  # searches; must not submit the run form
    expect(page).to_have_url(re.compile(r"/samples/runs/plan/\d+/$"))

    # Nothing of the picker is wider than the phone.
    widths = page.evaluate("""() => { const r = document.getElementById('input-picker').getBoundingClientRect();
        return [r.right, document.documentElement.clientWidth]; }""")
    assert widths[0] <= widths[1] + 0.5, widths

    page.get_by_role("button", name="Save run").click()
    page.wait_for_url(re.compile(r"/samples/runs/\d+/$"))
    run = ProcessRun.objects.order_by("-id").first()
    assert sorted(run.inputs.values_list("label", flat=True)) == sorted([oldest.label, film.label])
