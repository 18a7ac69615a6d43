"""A tiny in-process event registry, so a lower app can announce something without importing the
app above that reacts to it (``webhooks`` subscribes; ``measurements`` and ``samples`` emit).

``emit`` defers delivery to the end of the current transaction (``on_commit``): a subscriber never
hears of a row that was rolled back, and always finds the row committed. A subscriber that raises is
logged and does not break the write that emitted the event, nor the other subscribers.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

# The events LEDger emits, with the keyword arguments each carries.
EVENTS = {
    "analysis.done": "file_id",  # a measurement file reached status done
    "analysis.failed": "file_id",  # … or failed (its failure_reason says why)
    "run.completed": "run_id",  # a process run was completed and its output samples created
}

_subscribers: dict[str, list[Callable[..., Any]]] = defaultdict(list)


def subscribe(name: str, fn: Callable[..., Any]) -> None:
    """Call ``fn(name, **payload)`` after each commit that emitted ``name``. Idempotent per function
    (AppConfig.ready may run twice in tests)."""
    if name not in EVENTS:
        raise ValueError(f"unknown event {name!r}; known: {', '.join(EVENTS)}")
    if fn not in _subscribers[name]:
        _subscribers[name].append(fn)


def unsubscribe(name: str, fn: Callable[..., Any]) -> None:
    if fn in _subscribers[name]:
        _subscribers[name].remove(fn)


def emit(name: str, **payload: Any) -> None:
    # No check of the name here: an emitter must never fail its own write over an event nobody
    # can subscribe to (subscribe() refuses unknown names, so a typo shows up there).
    if _subscribers.get(name):
        transaction.on_commit(lambda: _dispatch(name, payload))


def _dispatch(name: str, payload: dict[str, Any]) -> None:
    for fn in list(_subscribers[name]):
        try:
            fn(name, **payload)
        except Exception:  # noqa: BLE001 — a broken subscriber must not undo or block the emitter's work
            log.exception("subscriber %r of event %s failed (payload %r)", fn, name, payload)
