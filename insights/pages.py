"""What the drivers page draws from a family's rows, shared by the view and by the worker that
draws it ahead of a visit (``warming``): the metrics it shows by default, the family's query string
and the tables' HTML with their top plots."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from . import figures, selectors

TOP_PLOTS = 3  # drivers drawn inline per metric; the others on demand


def family_query(recipe, project) -> str:
    parts = [f"recipe={recipe.pk}"] if recipe else []
    if project:
        parts.append(f"project={project.code}")
    return "&".join(parts)


def default_metrics(data: selectors.InsightsData, wanted: list[str] | None = None, k: int = 3) -> list[str]:
    if wanted:
        return [m for m in wanted if m in data.metrics]
    preferred = [m for m in selectors.PREFERRED_METRICS if m in data.metrics]
    return (preferred or data.metrics)[:k]


def sections_html(data: selectors.InsightsData, table, metrics: list[str], query: str) -> SafeString:
    """The tables of the drivers page (a few hundred rows and the top plots), drawn once for the
    family's content (``selectors.cached_derived``): nothing in them depends on who asks."""
    def build() -> str:
        plots = figures.top_driver_plots(data, table, metrics, top=TOP_PLOTS)
        sections = []
        for metric in metrics:
            rows = [{"row": row, "col": data.columns.get(row.parameter), "label": data.label(row.parameter),
                     "plot": plots.get((row.metric, row.parameter))} for row in table.for_metric(metric)]
            sections.append({"metric": metric, "unit": data.metric_units.get(metric, ""), "rows": rows})
        return render_to_string("insights/_driver_sections.html", {"sections": sections, "family_query": query})

    html = selectors.cached_derived(data, _sections_what(metrics, query), build)
    return mark_safe(html)  # noqa: S308 — rendered by the template engine above, every text escaped there


def _sections_what(metrics: list[str], query: str) -> str:
    return f"drivers-html:{TOP_PLOTS}:{','.join(metrics)}:{query}"


def is_drawn(user, recipe, project, metrics: list[str] | None = None) -> bool:
    """Would the drivers page of this family come whole from the cache now (its rows, table and
    tables' HTML)? Reads the cache only: nothing is computed."""
    data = selectors.family_if_cached(user, recipe, project)
    if data is None:
        return False
    what = _sections_what(default_metrics(data, metrics), family_query(recipe, project))
    return selectors.derived_if_cached(data, what) is not None
