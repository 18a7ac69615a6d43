"""What the layers above samples add to its pages, without samples importing them.

    register_sample_panel(panel)   panel(request, sample) -> dict, merged into the sample page's
                                   context (portal adds the measurement files, plots and metrics)

Register from an AppConfig.ready; the sample page renders without any (an empty panel).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SamplePanel = Callable[[Any, Any], dict[str, Any]]
_SAMPLE_PANELS: list[SamplePanel] = []


def register_sample_panel(panel: SamplePanel) -> SamplePanel:
    if panel not in _SAMPLE_PANELS:
        _SAMPLE_PANELS.append(panel)
    return panel


def sample_panels_context(request, sample) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for panel in _SAMPLE_PANELS:
        context.update(panel(request, sample))
    return context
