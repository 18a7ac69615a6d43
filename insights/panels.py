"""The insights panel on the recipe page (registered in apps.py through recipes.panels)."""

from __future__ import annotations

from django.template.loader import render_to_string

from . import charts, selectors, warming


def recipe_control_panel(request, recipe, version) -> str | None:
    """This recipe's version on a control chart of its first watched metric, with the other
    versions' out-of-control counts; nothing when none of its samples is measured."""
    if request is None or not request.user.is_authenticated:
        return None
    data = selectors.control_data(request.user, recipe=recipe, metrics=selectors.WATCHED_METRICS)
    warming.record("recipe", request.user, recipe)
    metric = next((m for m in selectors.WATCHED_METRICS if m in data.metrics), None)
    if metric is None:
        return None
    view = selectors.control_charts(data, metric)
    current = next((c for c in view.charts if c.group == f"v{version.number}"), None) if version else None
    label = f"{metric} ({view.unit})" if view.unit else metric
    return render_to_string("insights/_recipe_panel.html", {
        "recipe": recipe, "version": version, "metric": metric, "view": view, "current": current, "window": data.window,
        "svg": charts.control_chart(current, ylabel=label, width=620, height=210) if current else "",
        "summary": [{"chart": c, "n_ooc": len(c.out_of_control)} for c in view.charts],
    }, request=request)


def home_out_of_control_panel(request) -> str | None:
    """Out-of-control points whose metrics arrived in the last two weeks, for the home page (which
    portal, above this app, renders)."""
    if request is None or not request.user.is_authenticated:
        return None
    points = selectors.new_out_of_control_points(request.user)
    warming.record("home", request.user)
    return render_to_string("insights/_home_panel.html", {"points": points, "days": selectors.NEW_POINT_DAYS},
                            request=request)
