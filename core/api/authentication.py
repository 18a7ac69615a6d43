from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core.tokens import token_for_key


class HashedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>`` against the hashed ``core.ApiToken`` rows (DRF's parsing and
    401 with ``WWW-Authenticate: Token`` kept; its plaintext Token model is not used)."""

    def authenticate_credentials(self, key):
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.user, token
