"""Test helper for API tokens, shaped like DRF's ``Token`` so older tests change only an import:

    from tests.tokens import Token            # was: from rest_framework.authtoken.models import Token
    key = Token.objects.get_or_create(user=user)[0].key

Real tokens are hashed (core.tokens): a key exists in clear only when it is made, so every
``create``/``get_or_create`` makes a new working token (named "tests") and returns it with ``.key``.
"""

from __future__ import annotations

from core.models import ApiToken
from core.tokens import token_create, token_for_key


def key_for(user, name: str = "tests") -> str:
    """A new working API key for ``user``."""
    return token_create(user=user, name=name)[1]


class _Manager:
    def create(self, *, user, name: str = "tests") -> ApiToken:
        token, key = token_create(user=user, name=name)
        token.key = key
        return token

    def get_or_create(self, *, user, name: str = "tests") -> tuple[ApiToken, bool]:
        return self.create(user=user, name=name), True

    def get(self, *, key: str) -> ApiToken:
        token = token_for_key(key)
        if token is None:
            raise ApiToken.DoesNotExist(f"no active token with key {key[:8]}…")
        return token

    def filter(self, **lookups):
        """Active tokens only (a revoked token 'no longer exists' for DRF-style assertions)."""
        return ApiToken.objects.active().filter(**lookups)


class Token:
    objects = _Manager()
    DoesNotExist = ApiToken.DoesNotExist
