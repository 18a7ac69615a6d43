from django.conf import settings


def signin(request):
    """Which sign-in methods the login page offers."""
    return {"signin": {"oidc_enabled": settings.LEDGER_OIDC_ENABLED, "ldap_enabled": settings.LEDGER_LDAP_ENABLED,
                       "oidc_label": getattr(settings, "LEDGER_OIDC_LABEL", "")}}
