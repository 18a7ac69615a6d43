"""`make screenshots`: PNGs of the main pages for the README at a tablet's width (1024 px, name
``…-tablet.png``) and a phone's (390 px, ``…-phone.png``), from a small lab built with the services
plus one upload through the page. Skipped unless pytest is given --screenshots DIR."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import login
from tests.browser.scenario import DATA, PASSWORD, build_lab

WIDTHS = ((1024, "-tablet"), (390, "-phone"))  # the glovebox tablet, a phone that scanned a QR code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def out_dir(request) -> Path:
    where = request.config.getoption("--screenshots")
    if not where:
        pytest.skip("give --screenshots DIR (make screenshots)")
    path = Path(where)
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_screenshots(new_page, out_dir, transactional_db):
    lab = build_lab()
    film_version, (dev1, dev2) = lab["recipes"]["film"], lab["devices"]
    from recipes.models import Chemical

    pbbr2 = Chemical.objects.get(abbreviation="PbBr2")
    for width, suffix in WIDTHS:
        page = new_page(width)
        login(page, lab["user"].username, PASSWORD)

        def shot(name: str, url: str | None = None, page=page, suffix=suffix) -> None:
            if url:
                page.goto(url)
            page.wait_for_load_state("networkidle")
            page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-image
            page.screenshot(path=str(out_dir / f"{name}{suffix}.png"), full_page=True)

        if suffix == WIDTHS[0][1]:
            # Device 1's pair goes up once, through the page, so the upload shot shows a finished file.
            page.goto(f"/measurements/upload/?target={dev1.device.pixels.get(name='A').label}")
            page.locator("#id_file").set_input_files([str(DATA / "jlv_sweep.csv"), str(DATA / "el_spectrum.txt")])
            page.locator('li.upload-row tr[data-metric="eqe_max"]').first.wait_for(timeout=90_000)
            page.locator("li.upload-row .badge-done").nth(1).wait_for()
            shot("upload")
        shot("home", "/")
        shot("recipe-detail", f"/recipes/{film_version.recipe_id}/")
        page.goto(f"/samples/runs/plan/{film_version.pk}/")
        page.get_by_label("QD ink volume", exact=True).fill("250")
        page.get_by_label("QD ink volume", exact=True).blur()
        shot("run-plan-deviation")
        shot("sample-detail", f"/samples/{dev2.label}/")
        shot("device-detail", f"/devices/{dev2.label}/")
        shot("compare", f"/measurements/compare/?samples={dev1.label}&samples={dev2.label}"
                        f"&x=r{film_version.recipe_id}.4.volume&y=eqe_max")
        mf = dev2.measurement_files.order_by("pk").first()
        shot("measurement-detail", f"/measurements/{mf.pk}/")
        shot("chemical-detail", f"/recipes/chemicals/{pbbr2.pk}/")
        shot("chemical-form", f"/recipes/chemicals/{pbbr2.pk}/edit/")
        shot("recipe-version-edit", f"/recipes/versions/{film_version.pk}/edit/")
        # A new recipe with a mass typed in volts: refused, with the step and parameter named.
        page.goto("/recipes/new/")
        page.get_by_label("Name").fill("PbBr₂ stock in DMF")
        page.get_by_label("Kind of recipe").select_option("precursor_solution")
        page.locator('[name="step-0-name"]').fill("Weigh and dissolve")
        page.locator('[name="step-0-action"]').select_option("add")
        page.locator('[name="s0p-0-name"]').fill("PbBr₂ mass")
        page.locator('[name="s0p-0-role"]').select_option("component")
        page.locator('[name="s0p-0-dimension"]').select_option("mass")
        page.locator('[name="s0p-0-nominal"]').fill("146.8")
        page.locator('[name="s0p-0-unit"]').select_option("V")
        page.locator('[name="s0p-0-chemical"]').select_option(str(pbbr2.pk))
        page.get_by_role("button", name="Create recipe (v1)").click()
        page.locator("#form-errors").wait_for()
        shot("recipe-new-refused")
    assert len(list(out_dir.glob("*-phone.png"))) >= 11


def test_insights_screenshots(new_page, out_dir, transactional_db):
    """The three insights pages and the recipe panel on the whole demo campaign (load_demo's)."""
    from portal.demo import DEMO_PASSWORD, DEMO_USER, load_demo
    from recipes.models import Recipe

    load_demo()
    film = Recipe.objects.get(name="QD-in-matrix film (QD-ink drip)")
    for width, suffix in WIDTHS:
        page = new_page(width)
        login(page, DEMO_USER, DEMO_PASSWORD)
        for name, url in (("insights-control", f"/insights/?recipe={film.pk}&metric=t50"),
                          ("insights-drivers", f"/insights/drivers/?recipe={film.pk}"),
                          ("insights-suggest", f"/insights/suggest/?version={film.versions.get(number=3).pk}"
                                               "&objective=weighted&weight=0.5&batch=4&scope=recipe&seed=1"),
                          ("recipe-insights-panel", f"/recipes/{film.pk}/"),
                          ("home-out-of-control", "/")):
            page.goto(url)
            page.wait_for_load_state("networkidle")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out_dir / f"{name}{suffix}.png"), full_page=name != "insights-drivers")
