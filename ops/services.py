"""Writes of the ops app: project membership from a sign-in's groups."""

from __future__ import annotations

import logging

from django.db import transaction

from samples.models import Project

log = logging.getLogger(__name__)


def _norm(group: str) -> str:
    return group.strip().lower()


@transaction.atomic
def memberships_sync(user, *, groups, mapping: dict[str, list[str]], staff_groups=()) -> dict[str, list[str]]:
    """Make ``user``'s membership of every project named in ``mapping`` follow ``groups`` (the
    IdP's group claim or the directory's groups): added where a group grants it, removed where
    none does. Projects the mapping never names are left alone, so memberships given by hand
    stay. With ``staff_groups`` configured, ``is_staff`` follows them too (never ``is_superuser``).
    Returns ``{"added": [...], "removed": [...]}``."""
    have = {_norm(g) for g in groups}
    granted, managed = set(), set()
    for group, codes in mapping.items():
        managed.update(codes)
        if _norm(group) in have:
            granted.update(codes)
    projects = {p.code: p for p in Project.objects.filter(code__in=managed)}
    unknown = sorted(managed - set(projects))
    if unknown:
        log.warning("sign-in group mapping names projects that do not exist: %s", ", ".join(unknown))
    current = set(user.ledger_projects.filter(code__in=managed).values_list("code", flat=True))
    added, removed = sorted((granted & set(projects)) - current), sorted(current - granted)
    for code in added:
        projects[code].members.add(user)
    for code in removed:
        projects[code].members.remove(user)
    if staff_groups:
        is_staff = bool(have & {_norm(g) for g in staff_groups})
        if user.is_staff != is_staff and not user.is_superuser:
            user.is_staff = is_staff
            user.save(update_fields=["is_staff"])
    if added or removed:
        log.info("sign-in memberships of %s: added %s, removed %s", user.get_username(), added, removed)
    return {"added": added, "removed": removed}
