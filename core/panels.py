"""Panels that higher apps add to the home page (core never imports them; the layers rule).

An app registers ``panel(request) -> str | None`` (HTML, or None) from its AppConfig.ready(); the
home view renders them in order. The insights app lists new out-of-control points this way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe

log = logging.getLogger(__name__)
_PANELS: list[tuple[str, Callable]] = []


def register_home_panel(name: str, panel: Callable) -> None:
    global _PANELS
    _PANELS = [(n, p) for n, p in _PANELS if n != name] + [(name, panel)]


def home_panels(request) -> SafeString:
    """Every registered panel's HTML; one that fails is logged and left out."""
    parts = []
    for name, panel in _PANELS:
        try:
            html = panel(request)
        except Exception:
            log.exception("home panel %s failed", name)
            continue
        if html:
            parts.append(str(html))
    return mark_safe("".join(parts))  # noqa: S308 — panels render their own escaped templates
