"""Insights pages computed by the worker after a file lands, before anyone asks (issue 15).

Cold, a busy recipe's drivers page is 0.5–0.9 s: its family's rows (~0.2 s), the robust fits and
screens of a few hundred pairs, the top plots and the tables' HTML; the home page's out-of-control
panel charts every recipe measured in the last fortnight, and each stored metric anywhere makes all
of it stale. Every piece is cached under a key of what it reads (``selectors.family_data``,
``selectors.control_data``, ``selectors.cached_derived``, the panel's points), so what the worker
computes with the same functions is exactly what the page would; the page finds it and computes
nothing. Which pages: those somebody opened in the last day (``record``: the page, the person, and
for a family page the recipe, project and metrics asked for), at most ``MAX_VIEWS`` of them, each
once per set of projects seen (``core.access.visibility_key``) — computed as that person, so nobody's
cache holds rows they may not see. The home panel's charts are the recipe page's panel too (the same
key), so a recipe page opened after the pass is drawn as well.

When: ``LEDGER_INSIGHTS_WARM_S`` after a file is analysed (``analysis.done``); files landing
meanwhile join the same pass (``DUE_KEY``, taken with ``cache.add``: one pass per window however
many workers hear of files). Only where it can help: a broker (in-process tasks would run it inside
the upload) and a cache the web processes share (``LEDGER_CACHE_URL``). Nothing here decides a number:
a page whose rows changed after the pass computes them itself, as before.
"""

from __future__ import annotations

import logging
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import QueryDict

from core.access import restrict, visibility_key
from core.cache import is_shared
from recipes.models import Recipe
from samples.models import Project

from . import pages, selectors
from .forms import DriversForm

log = logging.getLogger(__name__)

VIEWS_KEY = "insights:warm:views"
DUE_KEY = "insights:warm:due"
MAX_VIEWS = 20  # pages kept warm (the most recently opened)
VIEW_TTL_S = 24 * 3600  # a page not opened for a day is left cold
SEEN_AGAIN_S = 60  # a view seen this recently is not written again (a page load costs one cache read)
TASK = "insights.tasks.warm_insights_pages"


def enabled() -> bool:
    return settings.LEDGER_INSIGHTS_WARM_S > 0 and not settings.CELERY_TASK_ALWAYS_EAGER and is_shared()


PAGES = ("drivers", "control", "recipe", "home")


def record(page: str, user, recipe=None, project=None, metrics: list[str] | None = None) -> None:
    """Remember that ``user`` opened ``page`` (one of ``PAGES``): for drivers and control the family
    of ``recipe`` in ``project``, and for drivers the ``metrics`` asked for (None: the page's
    default); for recipe, the recipe page's control-chart panel. Concurrent writers may lose one
    another's entry: the page is then cold once more, never wrong."""
    if page not in PAGES:
        raise ValueError(f"unknown page {page!r}; known: {', '.join(PAGES)}")
    if (page != "home" and recipe is None) or not enabled():
        return
    key = (page, user.pk, recipe.pk if recipe else None, project.pk if project else None, tuple(metrics or ()))
    now = time.time()
    views = cache.get(VIEWS_KEY) or {}
    if views.get(key, 0) > now - SEEN_AGAIN_S:
        return
    views[key] = now
    kept = sorted(((view, seen) for view, seen in views.items() if seen > now - VIEW_TTL_S), key=lambda v: -v[1])
    cache.set(VIEWS_KEY, dict(kept[:MAX_VIEWS]), VIEW_TTL_S)


def on_analysis_done(name: str, file_id: int) -> bool:
    """``analysis.done`` (on commit): schedule a pass unless one is already due. True when sent."""
    if not enabled() or not cache.get(VIEWS_KEY):
        return False
    delay = settings.LEDGER_INSIGHTS_WARM_S
    # Held until the pass starts; its timeout only frees the window when a pass was lost (a queue
    # backed up longer than that gets one more pass, never none).
    if not cache.add(DUE_KEY, file_id, timeout=int(delay) + 900):
        return False  # a pass is already due: it will read this file's metrics too
    try:
        _send(delay)
    except Exception:
        cache.delete(DUE_KEY)  # the next file tries again (core.events logs this one)
        raise
    return True


def _send(countdown: float) -> None:
    # By name, so this module never imports tasks (tasks import it).
    from celery import current_app

    current_app.tasks[TASK].apply_async(countdown=countdown)


def warm() -> dict[str, float]:
    """Compute the remembered pages (the task's body). Files analysed from here on schedule the
    next pass. One page that fails is logged and the others are still drawn (a time limit stops
    the pass). Returns what it did, for the task's log line."""
    started = time.perf_counter()
    cache.delete(DUE_KEY)
    views = cache.get(VIEWS_KEY) or {}
    users = get_user_model().objects.filter(is_active=True).in_bulk({view[1] for view in views})
    seen_by = {pk: visibility_key(user) for pk, user in users.items()}  # one membership query per person
    done: set[tuple] = set()
    drawn = 0
    for view, _seen in sorted(views.items(), key=lambda item: -item[1]):
        page, user_id, recipe_id, project_id, metrics = view
        user = users.get(user_id)
        if user is None:
            continue
        seen_as = (page, seen_by[user_id], recipe_id, project_id, metrics)
        if seen_as in done:
            continue
        done.add(seen_as)
        try:
            drawn += _draw_page(page, user, recipe_id, project_id, metrics)
        except SoftTimeLimitExceeded:
            raise
        except Exception:  # noqa: BLE001 — the visit computes this page itself, as without the pass
            log.exception("insights: drawing %s ahead for user %s failed", view, user_id)
    summary = {"views": len(views), "pages": drawn, "seconds": round(time.perf_counter() - started, 3)}
    log.info("insights: %d page(s) drawn ahead from %d remembered view(s) in %.2f s", drawn, len(views),
             summary["seconds"])
    return summary


def _draw_page(page: str, user, recipe_id, project_id, metrics: tuple) -> bool:
    if page == "home":
        selectors.new_out_of_control_points(user)  # its charts are the recipe pages' panels too
        return True
    if page == "control":
        return draw_control(user, recipe_id, project_id)
    if page == "recipe":
        return draw_recipe_panel(user, recipe_id)
    return draw(user, recipe_id, project_id, list(metrics) or None)


def _family(user, recipe_id: int, project_id: int | None):
    """The recipe and project as the page would resolve them for ``user`` (only what they may see),
    or None when that is no longer this family."""
    query = QueryDict(mutable=True)
    query["recipe"] = str(recipe_id)
    if project_id is not None:
        code = Project.objects.filter(pk=project_id).values_list("code", flat=True).first()
        if code is None:
            return None
        query["project"] = code
    form = DriversForm(query, user=user)
    recipe, project = form.family()
    if recipe is None or recipe.pk != recipe_id or (project.pk if project else None) != project_id:
        return None
    return recipe, project


def draw_control(user, recipe_id: int, project_id: int | None) -> bool:
    """The control page's rows for this family as ``user`` sees it, left in the cache (its charts
    are computed from them on the visit, ~50 ms)."""
    family = _family(user, recipe_id, project_id)
    if family is None:
        return False
    selectors.control_data(user, recipe=family[0], project=family[1])
    return True


def draw_recipe_panel(user, recipe_id: int) -> bool:
    """The rows of the recipe page's control-chart panel (``panels.recipe_control_panel``)."""
    recipe = restrict(Recipe.objects.filter(pk=recipe_id), user).first()
    if recipe is None:
        return False
    selectors.control_data(user, recipe=recipe, metrics=selectors.WATCHED_METRICS)
    return True


def draw(user, recipe_id: int, project_id: int | None, metrics: list[str] | None) -> bool:
    """What the drivers page computes for this family as ``user`` sees it: the rows, the table and
    the tables' HTML, left in the cache. False when there is nothing to draw."""
    family = _family(user, recipe_id, project_id)
    if family is None:
        return False
    recipe, project = family
    data = selectors.family_data(user, recipe=recipe, project=project)
    chosen = pages.default_metrics(data, metrics)
    if not chosen:
        return False
    table = selectors.drivers_table(data, chosen)
    pages.sections_html(data, table, chosen, pages.family_query(recipe, project))
    return True
