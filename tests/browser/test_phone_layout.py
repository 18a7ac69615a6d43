"""Issue 14, reading comfort: at a phone's 390 px no page is wider than the screen (a wide table
scrolls inside its box, with a shadow at the hidden edge), and the run form's check column is on
screen. At the tablet's 1024 px the same holds. (The insights pages need the demo campaign; their
phone layout is checked by eye in `make screenshots`.)"""

from __future__ import annotations

import pytest

from recipes.models import Chemical
from tests.browser.conftest import login
from tests.browser.scenario import PASSWORD, build_lab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lab(transactional_db):
    return build_lab()  # device 2 measured: the measurement page and Compare have plots and tables


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("width", [390, 1024])
def test_no_page_is_wider_than_the_screen(new_page, lab, width):
    page = new_page(width, 800)
    login(page, lab["user"].username, PASSWORD)
    film = lab["recipes"]["film"]
    chemical = Chemical.objects.get(abbreviation="PbBr2")
    device, film_sample = lab["devices"][0], lab["films"][0]
    urls = ["/", "/recipes/", f"/recipes/{film.recipe_id}/", f"/samples/runs/plan/{film.pk}/",
            f"/recipes/versions/{film.pk}/revise/", f"/recipes/versions/{film.pk}/edit/", "/recipes/new/",
            "/recipes/chemicals/", f"/recipes/chemicals/{chemical.pk}/", f"/recipes/chemicals/{chemical.pk}/edit/",
            f"/recipes/lots/{chemical.lots.first().pk}/edit/", "/samples/", f"/samples/{film_sample.label}/",
            "/samples/runs/", f"{film_sample.produced_by.get_absolute_url()}", f"/devices/{device.label}/",
            "/devices/", f"/devices/{lab['devices'][1].label}/",
            f"/measurements/{lab['devices'][1].measurement_files.order_by('pk').first().pk}/",
            f"/measurements/compare/?samples={device.label}&samples={lab['devices'][1].label}"]
    wide = {}
    for url in urls:
        page.goto(url)
        if page_width(page) > width:
            wide[url] = page_width(page)
    assert wide == {}


def test_the_run_forms_check_column_is_on_a_phones_screen(new_page, lab):
    page = new_page(390, 800)
    login(page, lab["user"].username, PASSWORD)
    page.goto(f"/samples/runs/plan/{lab['recipes']['film'].pk}/")
    volume = page.get_by_label("QD ink volume", exact=True)
    volume.fill("250")
    volume.blur()
    check = page.locator('tr.param-row[data-path="4.volume"] .check-cell')
    assert "outside planned range" in check.inner_text()
    check.scroll_into_view_if_needed()
    box = check.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page_width(page) <= 390
