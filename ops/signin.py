"""Sign-in backends: OIDC (mozilla-django-oidc) and LDAP (django-auth-ldap), both granting project
membership from groups through ``memberships_sync``.

Neither may take over a local account that signs in with a password or a token: an instrument
account, or a person's local account with a usable password, stays local (logged and refused).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from core.api.permissions import is_instrument

from .services import memberships_sync

log = logging.getLogger(__name__)


def _claim_groups(claims: dict) -> list[str]:
    value = claims.get(settings.LEDGER_OIDC_GROUPS_CLAIM) or []
    return [value] if isinstance(value, str) else [str(g) for g in value]


class LedgerOIDCBackend(OIDCAuthenticationBackend):
    """Users are matched and created by the username claim (``preferred_username`` by default);
    created users have no password (they sign in through the provider only)."""

    def _username(self, claims: dict) -> str:
        return str(claims.get(settings.LEDGER_OIDC_USERNAME_CLAIM) or claims.get("email") or "").strip()[:150]

    def verify_claims(self, claims) -> bool:
        return bool(self._username(claims)) and bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        users = get_user_model().objects.filter(username__iexact=self._username(claims))
        local = [u for u in users if u.has_usable_password() or is_instrument(u)]
        if local:
            log.warning("OIDC sign-in for %r refused: a local account of that name exists", self._username(claims))
            return get_user_model().objects.none()
        return users

    def create_user(self, claims):
        if get_user_model().objects.filter(username__iexact=self._username(claims)).exists():
            return None  # a local account of that name, refused in filter_users_by_claims
        user = get_user_model().objects.create_user(self._username(claims), email=claims.get("email", ""))
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        user.first_name = str(claims.get("given_name", user.first_name))[:150]
        user.last_name = str(claims.get("family_name", user.last_name))[:150]
        user.email = str(claims.get("email", user.email))[:254]
        user.save(update_fields=["first_name", "last_name", "email"])
        memberships_sync(user, groups=_claim_groups(claims), mapping=settings.LEDGER_OIDC_PROJECT_GROUPS,
                         staff_groups=settings.LEDGER_OIDC_STAFF_GROUPS)
        return user


try:
    from django_auth_ldap.backend import LDAPBackend
except ImportError:  # optional at runtime (requirements-ldap.txt); settings refuse LDAP without it
    LDAPBackend = None

if LDAPBackend is not None:

    class LedgerLDAPBackend(LDAPBackend):
        def authenticate_ldap_user(self, ldap_user, password):
            user = super().authenticate_ldap_user(ldap_user, password)
            if user is None:
                return None
            if is_instrument(user):
                log.warning("LDAP sign-in as instrument account %r refused", user.get_username())
                return None
            groups = set()
            if getattr(settings, "AUTH_LDAP_GROUP_SEARCH", None) is not None:
                groups = set(ldap_user.group_dns) | set(ldap_user.group_names)
            memberships_sync(user, groups=groups, mapping=settings.LEDGER_LDAP_PROJECT_GROUPS,
                             staff_groups=settings.LEDGER_LDAP_STAFF_GROUPS)
            return user
