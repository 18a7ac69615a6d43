"""Per-project access in one place (as NetBox's RestrictedQuerySet.restrict()).

Every list, detail, export and API view narrows its queryset with ``restrict(qs, user)``. Lab-wide
records (chemicals, recipes, instruments) are visible to every signed-in user; everything that
belongs to a sample is visible to members of the sample's project.

The restriction is a semi-join, ``<path>_id IN (SELECT project_id FROM project_members WHERE
user_id = …)``: it never multiplies rows, so no list needs DISTINCT (which made PostgreSQL sort whole
rows and count a DISTINCT subquery at 100k samples and 1M metrics, issue 15).
"""

from __future__ import annotations

import hashlib

from django.db.models import Model, QuerySet

# model label -> path from the model to its Project
PROJECT_PATH: dict[str, str | None] = {
    "samples.project": "",
    "samples.sample": "project",
    "samples.processrun": "project",
    "samples.runvalue": "run__project",
    "samples.sampleparent": "child__project",
    "devices.device": "sample__project",
    "devices.layer": "device__sample__project",
    "devices.pixel": "device__sample__project",
    "measurements.measurementfile": "sample__project",
    "measurements.analysis": "sample__project",
    "measurements.derivedmetric": "sample__project",
    "measurements.plot": "analysis__sample__project",
    # lab-wide
    "recipes.chemical": None,
    "recipes.chemicallot": None,
    "recipes.recipe": None,
    "recipes.recipeversion": None,
    "recipes.recipestep": None,
    "recipes.recipeparameter": None,
    "measurements.instrument": None,
    "measurements.calibration": None,
}


def restrict(queryset: QuerySet, user) -> QuerySet:
    """``queryset`` narrowed to what ``user`` may see; the very same queryset when nothing is hidden
    (a superuser, a lab-wide model), so a caller can skip work that only narrowing needs."""
    if user is None or not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    label = queryset.model._meta.label_lower
    try:
        path = PROJECT_PATH[label]
    except KeyError:
        raise LookupError(f"{label} has no access rule in core.access.PROJECT_PATH") from None
    if path is None:
        return queryset
    return queryset.filter(**{f"{path}__in" if path else "pk__in": user_projects(user)})


def user_projects(user) -> QuerySet:
    """The ids of the user's projects, as a subquery (the membership table alone, no join)."""
    # Through the user's reverse relation, so core names no model of the apps above it.
    membership = user.ledger_projects.through
    return membership.objects.filter(user_id=user.pk).values("project_id")


def visibility_key(user) -> str:
    """What ``restrict`` lets ``user`` see, as a short cache-key part, for caches of restricted data
    shared by everyone who may see it: the same for two members of the same projects (and for any
    two superusers), a new one when a membership changes — so a person taken off a project stops
    reading its rows from a cache at once. One query (the membership table) unless superuser."""
    if user is None or not user.is_authenticated:
        return "none"
    if user.is_superuser:
        return "all"
    ids = ".".join(map(str, sorted(user_projects(user).values_list("project_id", flat=True))))
    return f"p{ids}" if len(ids) <= 64 else "h" + hashlib.blake2s(ids.encode(), digest_size=12).hexdigest()


def can_see(obj: Model, user) -> bool:
    return restrict(type(obj).objects.filter(pk=obj.pk), user).exists()


def can_author(user) -> bool:
    """May ``user`` write lab records (recipes, chemicals, lots) from the web? The API's rule for
    the same writes (core.api.viewsets: IsAuthenticated + InstrumentLimited): any signed-in person,
    but not an instrument account, whose token only uploads files and reads."""
    from core.api.permissions import is_instrument

    return bool(user and user.is_authenticated and user.is_active) and not is_instrument(user)


def can_manage_projects(user) -> bool:
    """Lab managers (staff) create projects and choose their members; everyone else sees the
    projects they are in. (With single sign-on, group-mapped memberships follow the IdP's groups
    at each sign-in.)"""
    return bool(user and user.is_authenticated and user.is_active and (user.is_staff or user.is_superuser))


def require_author(user) -> None:
    """Raise PermissionDenied (the 403 page) unless ``can_author(user)``."""
    from django.core.exceptions import PermissionDenied

    if not can_author(user):
        raise PermissionDenied("Instrument accounts may only upload measurement files and read; "
                               "recipes, chemicals and lots are written by people.")
