"""API tokens: make (the key is returned once), find by key, revoke; and who may manage whose.

Keys are 256 random bits (64 hex characters), so a plain SHA-256 digest is enough: nobody can
guess a key whose digest they read from a leaked backup, and unlike a keyed hash (HMAC with
SECRET_KEY) the tokens survive a SECRET_KEY rotation — an instrument PC should not lose its
access because the web sessions were reset. Old 40-character DRF keys were migrated the same way
(core/migrations/0002_api_tokens.py) and keep working.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.api.permissions import INSTRUMENT_GROUP, is_instrument

from .models import ApiToken

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user, name: str, created_by=None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the key (the only time the key exists in clear)."""
    name = (name or "").strip()[:100] or "API token"
    key = secrets.token_hex(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:8], digest=token_digest(key),
                                    created_by=created_by)
    return token, key


def token_revoke(token: ApiToken, *, by=None) -> bool:
    """Stops ``token`` working (the row stays). False when it was already revoked."""
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by))


@transaction.atomic
def token_replace(*, user, name: str, created_by=None) -> tuple[ApiToken, str]:
    """Revokes ``user``'s active tokens of that name and makes a new one (``issue_token`` again)."""
    for old in ApiToken.objects.active().filter(user=user, name=name.strip()[:100] or "API token"):
        token_revoke(old, by=created_by)
    return token_create(user=user, name=name, created_by=created_by)


def token_for_key(key: str) -> ApiToken | None:
    """The active token with this key, or None. Constant-time digest comparison."""
    if not key or len(key) < 8:
        return None
    digest = token_digest(key)
    for token in ApiToken.objects.active().filter(prefix=key[:8]).select_related("user"):
        if hmac.compare_digest(token.digest, digest):
            if token.last_used_at is None or timezone.now() - token.last_used_at > LAST_USED_RESOLUTION:
                token.last_used_at = timezone.now()
                ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.last_used_at)
            return token
    return None


# --- selectors and rules for the tokens page ----------------------------------------------------

def tokens_of(user):
    return ApiToken.objects.filter(user=user).select_related("created_by", "revoked_by")


def can_manage_instruments(user) -> bool:
    """Staff (lab managers) manage the instrument accounts' tokens."""
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


def instrument_accounts():
    return get_user_model().objects.filter(groups__name=INSTRUMENT_GROUP).order_by("username").distinct()


def can_manage_tokens_of(actor, owner) -> bool:
    if actor.pk == owner.pk:
        return True
    return can_manage_instruments(actor) and is_instrument(owner)
