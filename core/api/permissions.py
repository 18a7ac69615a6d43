"""Instrument tokens: upload measurement files and read, nothing else.

An instrument is a user in the ``instruments`` group (``manage.py issue_token NAME --instrument``).
A group rather than a model flag needs no migration, shows up in the admin, and can be given to a
person's account too if they must never edit records from scripts.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

INSTRUMENT_GROUP = "instruments"


def is_instrument(user) -> bool:
    if not user or not user.is_authenticated:
        return False
    cached = getattr(user, "_ledger_is_instrument", None)
    if cached is None:
        cached = user.groups.filter(name=INSTRUMENT_GROUP).exists()
        user._ledger_is_instrument = cached
    return cached


class InstrumentLimited(BasePermission):
    """Instruments may read anything they can see and call the actions a view lists in
    ``instrument_actions`` (the measurement upload); every other write is 403."""

    message = "Instrument tokens may only upload measurement files and read."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "action", None) in getattr(view, "instrument_actions", ()):
            return True  # allowed to everyone: no need to ask whether this is an instrument (a query)
        return not is_instrument(request.user)
