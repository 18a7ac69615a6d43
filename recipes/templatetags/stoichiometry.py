"""``{% composition_tables version_or_run volume_ml %}``: the "what is in it" and "what to weigh"
tables of recipes.stoichiometry, for recipe pages (a RecipeVersion) and run pages (a ProcessRun:
samples registers its run-level composition, see recipes.stoichiometry.register_composition).

    {% load stoichiometry %}
    {% composition_tables version request.GET.volume_ml %}
    {% composition_tables run %}            {# volume_ml defaults to ?volume_ml=, else the run's batch #}
"""

from __future__ import annotations

from typing import Any

from django import template

from recipes.stoichiometry import composition_of, library_from_db

register = template.Library()


def _library(context: template.Context):
    # One Chemical query per request even when a page shows several recipes.
    request = context.get("request")
    if request is None:
        return library_from_db()
    if not hasattr(request, "_ledger_reagent_library"):
        request._ledger_reagent_library = library_from_db()
    return request._ledger_reagent_library


@register.inclusion_tag("recipes/_composition.html", takes_context=True)
def composition_tables(context: template.Context, version_or_run: Any, volume_ml: Any = None) -> dict[str, Any]:
    """Render the tables for a RecipeVersion or a ProcessRun."""
    request = context.get("request")
    if volume_ml in (None, "") and request is not None:
        volume_ml = request.GET.get("volume_ml")
    result = composition_of(version_or_run, volume_ml, library=_library(context))
    return {"comp": result, "request": request}
