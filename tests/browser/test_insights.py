"""Insights in headless Chromium: the control charts mark the bad lot, the drivers rank the drip
volume first with its plot, and a proposed batch becomes planned runs with one click."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from recipes.models import Recipe
from samples.models import ProcessRun, RunStatus
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign_lab(transactional_db):
    from unittest import mock

    from insights.demo import load_campaign
    from insights.science.campaign import generate
    from portal.demo import DEMO_PASSWORD, load_demo
    from tests.insights.conftest import first_weeks

    with (mock.patch("measurements.demo.load_demo_measurements", return_value=[]),
          mock.patch("insights.demo.load_campaign", return_value={"created": False})):
        demo = load_demo()
    load_campaign(project=demo["project"], user=demo["user"], campaign=first_weeks(generate(), 4))
    return {"user": get_user_model().objects.get(username="demo"), "password": DEMO_PASSWORD}


def test_control_drivers_suggest_plan(new_page, campaign_lab):
    page = new_page(1280)
    login(page, "demo", campaign_lab["password"])
    film = Recipe.objects.get(name="QD-in-matrix film (QD-ink drip)")

    page.goto(f"/insights/?recipe={film.pk}&metric=t50")
    ooc = page.locator("#ooc-table tbody tr")
    assert {ooc.nth(i).get_attribute("data-label") for i in range(ooc.count())} >= {"DEV-0021", "DEV-0022", "DEV-0023"}
    assert page.locator('tr.flagged[data-lot="DEMO-PEAI-02"]').count() == 1
    assert page.locator(".control-chart svg .point.ooc").count() >= 3

    page.goto(f"/insights/drivers/?recipe={film.pk}&metrics=eqe_max")
    first = page.locator('table.drivers[data-metric="eqe_max"] tbody tr[data-rank="1"]')
    assert "QD ink volume" in first.inner_text()
    assert page.locator(".driver-plot svg.ichart").count() >= 3
    lazy = page.locator("details.driver-plot-lazy").first
    lazy.locator("summary").click()
    lazy.locator("svg.ichart").wait_for()

    page.goto(f"/insights/suggest/?version={film.versions.get(number=2).pk}")
    page.get_by_label("runs in the batch").fill("2")
    page.get_by_role("button", name="Propose").click()
    page.locator("#proposal-table tbody tr").nth(1).wait_for()
    before = ProcessRun.objects.filter(status=RunStatus.PLANNED).count()
    page.get_by_role("button", name=re.compile(r"Plan these 2 runs")).click()
    page.wait_for_url(re.compile(r"/insights/suggest/planned/\?runs="))
    assert page.locator("#planned-runs tbody tr").count() == 2
    assert ProcessRun.objects.filter(status=RunStatus.PLANNED).count() == before + 2
