"""`make screenshots`: PNGs of the main pages for the README, from a small lab built with the
services plus one upload through the page. Skipped unless pytest is given --screenshots DIR."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import login
from tests.browser.scenario import DATA, PASSWORD, build_lab

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
    for width, suffix in ((1280, ""), (800, "-tablet")):
        page = new_page(width)
        login(page, lab["user"].username, PASSWORD)

        def shot(name: str, url: str | None = None, page=page, suffix=suffix) -> None:
            if url:
                page.goto(url)
            page.wait_for_load_state("networkidle")
            page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-image
            page.screenshot(path=str(out_dir / f"{name}{suffix}.png"), full_page=True)

        if not suffix:
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
    assert len(list(out_dir.glob("*.png"))) >= 15


def test_insights_screenshots(new_page, out_dir, transactional_db):
    """The three insights pages and the recipe panel on the whole demo campaign (load_demo's)."""
    from portal.demo import DEMO_PASSWORD, DEMO_USER, load_demo
    from recipes.models import Recipe

    load_demo()
    film = Recipe.objects.get(name="QD-in-matrix film (QD-ink drip)")
    for width, suffix in ((1280, ""), (800, "-tablet")):
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
