"""Panels that higher apps add to the recipe page (the layers rule: recipes never imports them).

An app registers ``panel(request, recipe, version) -> str | None`` (HTML, or None to show nothing)
from its AppConfig.ready(); the page renders them in order with ``{% recipe_panels recipe current %}``
(recipes/templatetags/recipe_panels.py). The insights app adds its control-chart summary this way.
"""

from __future__ import annotations

from collections.abc import Callable

Panel = Callable[..., str | None]
_PANELS: list[tuple[str, Panel]] = []


def register_recipe_panel(name: str, panel: Panel) -> None:
    """Add (or replace, by name) a panel."""
    global _PANELS
    _PANELS = [(n, p) for n, p in _PANELS if n != name] + [(name, panel)]


def recipe_panels() -> list[tuple[str, Panel]]:
    return list(_PANELS)
