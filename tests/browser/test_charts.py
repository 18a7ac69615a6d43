"""The device's sample page draws its J-L-V figures in the browser (static/js/charts.js) from the
curves stored with the analysis: a J-V chart with a many-point path and axis labels with units."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from measurements.models import Analysis
from tests.browser.conftest import login
from tests.browser.scenario import PASSWORD, build_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lab(transactional_db):
    return build_lab()  # device 2 carries the analysed public J-L-V + EL pair


def test_device_page_draws_the_jv_chart(new_page, lab):
    device = lab["devices"][1]
    analysis = Analysis.objects.get(sample=device, kind="jlv", superseded=False)
    jv_y = next(c for c in analysis.result["charts"] if c["name"] == "jv")["series"][0]["y"]
    n_points = sum(1 for y in jv_y if y is not None and y > 0)  # J = 0 has no place on a log axis
    page = new_page(1280)
    login(page, lab["user"].username, PASSWORD)
    page.goto(f"/samples/{device.label}/")
    jv = page.locator('figure[data-chart-name="jv"] .chart svg')
    expect(jv).to_have_count(1)
    # One path through every drawable stored point of the sweep (M, then L per point); log ticks 10ⁿ.
    d = jv.locator(".series path").first.get_attribute("d")
    assert d.count("L") + d.count("M") == n_points > 100
    texts = "els => els.map(e => e.textContent)"  # SVG <text> has no innerText
    labels = jv.locator("text.axis-label").evaluate_all(texts)
    assert labels == ["voltage (V)", "current density |J| (mA/cm²)"]
    assert any(t.startswith("10") for t in jv.locator("text.tick").evaluate_all(texts))
    # Every stored chart of the analysis is drawn, and the EQE maximum is marked.
    expect(page.locator(f'.chart[data-charts="charts-{analysis.pk}"] svg')).to_have_count(5)
    assert "EQE max" in page.locator('figure[data-chart-name="eqe_j"] .mark text').evaluate_all(texts)[0]
    # The PNG link draws the same chart on the server.
    png = page.request.get(page.locator('figure[data-chart-name="jv"] a', has_text="PNG").get_attribute("href"))
    assert png.ok and png.body()[:4] == b"\x89PNG"
