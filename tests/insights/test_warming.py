"""The worker draws the insights pages people opened lately after a file lands (insights.warming),
into the cache the web processes share (a real Redis): the next visit computes nothing and shows
what a cold page would."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from insights import figures, selectors, warming
from insights.science import drivers as drivers_science
from recipes.models import Recipe

pytestmark = pytest.mark.django_db
FILM = "QD-in-matrix film (QD-ink drip)"


def tables(page) -> str:
    return page.content.decode().split('id="drivers-form"')[1]  # past the head's nonce


@pytest.fixture
def lead(client, loaded_campaign, shared_cache):
    client.force_login(get_user_model().objects.get(username="demo"))
    return client


def test_a_file_landing_draws_the_page_that_was_opened_and_the_visit_computes_nothing(
        lead, demo, data_dir, monkeypatch, django_capture_on_commit_callbacks):
    film = Recipe.objects.get(name=FILM)
    url = f"/insights/drivers/?recipe={film.pk}"
    assert lead.get(url).status_code == 200
    user = get_user_model().objects.get(username="demo")
    assert list(cache.get(warming.VIEWS_KEY)) == [("drivers", user.pk, film.pk, None, ())]
    before = selectors.family_data(user, recipe=film).cache_key

    analysed, drawn = [], []
    real_analyse, real_plot = drivers_science.analyse, figures.driver_plot
    monkeypatch.setattr(drivers_science, "analyse", lambda *a, **k: analysed.append(1) or real_analyse(*a, **k))
    monkeypatch.setattr(figures, "driver_plot", lambda *a: drawn.append(1) or real_plot(*a))
    # The PROCESS.md device is made with the film recipe: measured, it joins the family.
    pixel = demo["devices"]["QD-in-matrix LED, stack A"].pixels.get(name="A")
    for name in ("jlv_sweep.csv", "el_spectrum.txt"):
        with django_capture_on_commit_callbacks(execute=True):  # the analysis, then analysis.done's pass
            response = lead.post("/api/v1/measurements/", {
                "file": SimpleUploadedFile(name, (data_dir / "public" / name).read_bytes()), "sample": pixel.label})
        assert response.status_code == 201, response.content
    warmed = selectors.family_data(user, recipe=film)
    assert warmed.cache_key != before and pixel.device.sample.label in set(warmed.rows["unit"])
    assert analysed and len(drawn) >= 3, "the pass after the file did not compute the table and its top plots"
    assert cache.get(warming.DUE_KEY) is None  # the pass took it: the next file schedules another

    computed = (len(analysed), len(drawn))
    visit = lead.get(url)
    assert visit.status_code == 200 and (len(analysed), len(drawn)) == computed  # nothing computed for the visit
    cache.clear()
    cold = lead.get(url)
    assert len(analysed) > computed[0] and tables(visit) == tables(cold)  # what a cold page draws


def test_one_pass_per_window_and_only_for_pages_somebody_opened(lead, monkeypatch, settings):
    sent = []
    monkeypatch.setattr(warming, "_send", sent.append)
    assert warming.on_analysis_done("analysis.done", file_id=1) is False and sent == []  # nothing opened yet
    assert lead.get("/insights/drivers/").status_code == 200
    assert warming.on_analysis_done("analysis.done", file_id=2) is True
    assert warming.on_analysis_done("analysis.done", file_id=3) is False  # the due pass reads it too
    assert sent == [settings.LEDGER_INSIGHTS_WARM_S]
    summary = warming.warm()
    assert summary["views"] == 1 and summary["pages"] == 1
    assert warming.on_analysis_done("analysis.done", file_id=4) is True and len(sent) == 2


def test_the_pass_draws_only_what_its_person_may_still_see(lead):
    from samples.models import Project

    ann = get_user_model().objects.create_user("ann", password="x-ann-pass-9")
    projects = list(Project.objects.filter(members__username="demo"))
    for project in projects:
        project.members.add(ann)
    film = Recipe.objects.get(name=FILM)
    lead.force_login(ann)
    assert lead.get(f"/insights/drivers/?recipe={film.pk}").status_code == 200
    for project in projects:
        project.members.remove(ann)
    # Computed as ann as she is now: her key is a new one, and what it holds is no unit of theirs.
    assert warming.warm()["pages"] == 0
    assert selectors.family_if_cached(ann, film, None).rows.empty


def test_no_warming_without_a_shared_cache_or_a_broker(lead, settings, monkeypatch):
    sent = []
    monkeypatch.setattr(warming, "_send", sent.append)
    assert lead.get("/insights/drivers/").status_code == 200
    settings.LEDGER_INSIGHTS_WARM_S = 0
    assert not warming.enabled() and warming.on_analysis_done("analysis.done", file_id=1) is False
    settings.LEDGER_INSIGHTS_WARM_S = 20.0
    settings.CELERY_TASK_ALWAYS_EAGER = True  # in-process tasks: the pass would run inside the upload
    assert not warming.enabled() and warming.on_analysis_done("analysis.done", file_id=1) is False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert lead.get("/insights/drivers/").status_code == 200  # a view to warm, were it on
    assert not warming.enabled() and warming.on_analysis_done("analysis.done", file_id=1) is False
    assert sent == []  # the worker's own memory is no use to the web


def _section(marker: str):
    """The part of a page from ``marker`` to the end of its section (past the head's nonce and any
    form's CSRF token, which differ per request)."""
    return lambda page: page.content.decode().split(marker)[1].split("</section>")[0]


@pytest.mark.parametrize(("page", "url", "part"), [
    ("home", "/", _section('id="out-of-control"')),
    ("recipe", "/recipes/{film}/", _section('id="recipe-control"')),
    ("control", "/insights/?recipe={film}", lambda page: page.content.decode().split('id="control-form"')[1]),
])
def test_a_page_opened_before_a_file_is_drawn_by_the_pass(page, url, part, lead, demo, data_dir, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    """The home page's out-of-control panel (each recipe measured lately), the recipe page's panel
    and the control page read their families' rows; the pass reads them for who opened the page,
    so the next visit reads none, and shows what a cold one would."""
    url = url.format(film=Recipe.objects.get(name=FILM).pk)
    first = lead.get(url)
    assert first.status_code == 200 and part(first)
    assert any(view[0] == page for view in cache.get(warming.VIEWS_KEY))
    read = []
    real = selectors.insights_data
    monkeypatch.setattr(selectors, "insights_data", lambda *a, **k: read.append(k.get("recipe")) or real(*a, **k))
    pixel = demo["devices"]["QD-in-matrix LED, stack A"].pixels.get(name="A")
    for name in ("jlv_sweep.csv", "el_spectrum.txt"):
        with django_capture_on_commit_callbacks(execute=True):
            response = lead.post("/api/v1/measurements/", {
                "file": SimpleUploadedFile(name, (data_dir / "public" / name).read_bytes()), "sample": pixel.label})
        assert response.status_code == 201, response.content
    assert read, f"the pass read no family for the {page} page"
    after_pass = len(read)
    visit = lead.get(url)
    assert visit.status_code == 200 and len(read) == after_pass  # nothing read for the visit
    cache.clear()
    cold = lead.get(url)
    assert len(read) > after_pass and part(visit) == part(cold)


def test_a_family_asked_with_a_project_and_metrics_is_drawn_as_asked(lead, monkeypatch):
    """The page's project filter and chosen metrics are part of what is drawn: the pass resolves
    them as the page does, so that page (not the default one) is the one that comes from the cache."""
    from insights import pages
    from samples.models import Project

    user = get_user_model().objects.get(username="demo")
    film = Recipe.objects.get(name=FILM)
    project = Project.objects.get(samples__label=selectors.family_data(user, recipe=film).rows["unit"].iloc[0])
    url = f"/insights/drivers/?recipe={film.pk}&project={project.code}&metrics=luminance_max"
    assert lead.get(url).status_code == 200
    views = cache.get(warming.VIEWS_KEY)
    assert list(views) == [("drivers", user.pk, film.pk, project.pk, ("luminance_max",))]
    cache.clear()
    cache.set(warming.VIEWS_KEY, views)
    assert not pages.is_drawn(user, film, project, ["luminance_max"])
    assert warming.warm()["pages"] == 1
    assert pages.is_drawn(user, film, project, ["luminance_max"]) and not pages.is_drawn(user, film, None)
    analysed = []
    real = drivers_science.analyse
    monkeypatch.setattr(drivers_science, "analyse", lambda *a, **k: analysed.append(1) or real(*a, **k))
    page = lead.get(url)
    assert page.status_code == 200 and 'id="metric-luminance_max"' in page.content.decode() and analysed == []


def test_a_page_read_again_after_the_lab_moved_on_replaces_its_entries(lead, shared_cache):
    """One entry per page and set of projects seen, whatever the stamp: a run saved (as a file or
    sample elsewhere would) moves the stamp, the visit reads the rows again and overwrites its entry instead of adding one
    (so the cache is bounded by the pages opened, and an entry may live a day)."""
    import redis

    from samples.models import ProcessRun
    from tests.conftest import SHARED_CACHE_URL

    client = redis.Redis.from_url(SHARED_CACHE_URL)
    keys = lambda: sorted(k.decode().split(":1:", 1)[1] for k in client.scan_iter(f"{shared_cache}:*insights:*"))  # noqa: E731
    assert lead.get("/insights/drivers/").status_code == 200 and lead.get("/insights/").status_code == 200
    before = keys()
    kinds = [k.split(":")[1] for k in before]
    assert kinds.count("family") == 3 and kinds.count("control") == 1, before  # the rows, the table, its HTML
    for _ in range(3):
        stamp = selectors._values_stamp()
        ProcessRun.objects.order_by("pk").first().save()  # a run saved: the stamp moves
        assert selectors._values_stamp() != stamp
        assert lead.get("/insights/drivers/").status_code == 200 and lead.get("/insights/").status_code == 200
    assert keys() == before
    family = next(k for k in client.scan_iter(f"{shared_cache}:*insights:family:*") if k.endswith(b":40"))
    assert 3600 < client.ttl(family) <= selectors.INSIGHTS_CACHE_S
