from rest_framework.throttling import SimpleRateThrottle

from core.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Per token (an instrument PC), else per user (browser session), else per IP.

    Keyed by the token rather than the user so one misbehaving station does not starve the
    person's browser session; the rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["user"]."""

    scope = "user"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
