"""Sign-in configuration from the environment: OIDC single sign-on and LDAP, each switched on by
its own variables, beside the local accounts that instruments and admins keep using.

``configure_signin`` returns the settings to merge into ``config.settings``; everything a lab's IT
sets is an environment variable (README "Running it for a lab" → Sign-in).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_json_groups, env_list, env_str

_OIDC_ENDPOINTS = ("OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_USER_ENDPOINT")


def _oidc() -> dict:
    client_id = env_str("OIDC_RP_CLIENT_ID")
    if not client_id:
        return {"LEDGER_OIDC_ENABLED": False}
    algo = env_str("OIDC_RP_SIGN_ALGO", "RS256")
    required = list(_OIDC_ENDPOINTS) + ["OIDC_RP_CLIENT_SECRET"] + (["OIDC_OP_JWKS_ENDPOINT"] if algo.startswith("RS") or algo.startswith("ES") else [])
    missing = [name for name in required if not env_str(name)]
    if missing:
        raise ImproperlyConfigured(f"OIDC_RP_CLIENT_ID is set, so sign-in by OIDC needs {', '.join(missing)} too "
                                   "(the provider's /.well-known/openid-configuration lists the endpoints)")
    return {
        "LEDGER_OIDC_ENABLED": True,
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": env_str("OIDC_RP_CLIENT_SECRET"),
        "OIDC_RP_SIGN_ALGO": algo,
        "OIDC_RP_SCOPES": env_str("OIDC_RP_SCOPES", "openid email profile"),
        **{name: env_str(name) for name in _OIDC_ENDPOINTS},
        "OIDC_OP_JWKS_ENDPOINT": env_str("OIDC_OP_JWKS_ENDPOINT") or None,
        "OIDC_OP_LOGOUT_ENDPOINT": env_str("OIDC_OP_LOGOUT_ENDPOINT") or None,
        "OIDC_VERIFY_SSL": env_bool("OIDC_VERIFY_SSL", default=True),
        "OIDC_TIMEOUT": 10,
        "OIDC_USE_PKCE": True,
        "OIDC_STORE_ID_TOKEN": False,
        "LOGIN_REDIRECT_URL_FAILURE": "/accounts/login/?sso=failed",
        "LEDGER_OIDC_LABEL": env_str("LEDGER_OIDC_LABEL", "Sign in with single sign-on"),
        "LEDGER_OIDC_USERNAME_CLAIM": env_str("LEDGER_OIDC_USERNAME_CLAIM", "preferred_username"),
        "LEDGER_OIDC_GROUPS_CLAIM": env_str("LEDGER_OIDC_GROUPS_CLAIM", "groups"),
        "LEDGER_OIDC_PROJECT_GROUPS": env_json_groups("LEDGER_OIDC_PROJECT_GROUPS"),
        "LEDGER_OIDC_STAFF_GROUPS": env_list("LEDGER_OIDC_STAFF_GROUPS", []),
    }


def _ldap() -> dict:
    uri = env_str("AUTH_LDAP_SERVER_URI")
    if not uri:
        return {"LEDGER_LDAP_ENABLED": False}
    try:
        import ldap
        from django_auth_ldap.config import (
            ActiveDirectoryGroupType,
            GroupOfNamesType,
            GroupOfUniqueNamesType,
            LDAPSearch,
            PosixGroupType,
        )
    except ImportError:
        raise ImproperlyConfigured("AUTH_LDAP_SERVER_URI is set but django-auth-ldap is not installed: "
                                   "apt-get install libldap2-dev libsasl2-dev, then pip install -r requirements-ldap.txt "
                                   "-c constraints.txt (make install-ldap)") from None
    user_base = env_str("LEDGER_LDAP_USER_BASE")
    dn_template = env_str("AUTH_LDAP_USER_DN_TEMPLATE")
    if not user_base and not dn_template:
        raise ImproperlyConfigured("AUTH_LDAP_SERVER_URI is set: set LEDGER_LDAP_USER_BASE (search) or "
                                   "AUTH_LDAP_USER_DN_TEMPLATE (e.g. uid=%(user)s,ou=people,dc=uni,dc=edu)")
    group_types = {"groupOfNames": GroupOfNamesType, "groupOfUniqueNames": GroupOfUniqueNamesType,
                   "posixGroup": PosixGroupType, "activeDirectory": ActiveDirectoryGroupType}
    group_type = env_str("LEDGER_LDAP_GROUP_TYPE", "groupOfNames")
    if group_type not in group_types:
        raise ImproperlyConfigured(f"LEDGER_LDAP_GROUP_TYPE={group_type!r}: expected one of {', '.join(group_types)}")
    out = {
        "LEDGER_LDAP_ENABLED": True,
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_BIND_DN": env_str("AUTH_LDAP_BIND_DN"),
        "AUTH_LDAP_BIND_PASSWORD": env_str("AUTH_LDAP_BIND_PASSWORD"),
        "AUTH_LDAP_START_TLS": env_bool("AUTH_LDAP_START_TLS", default=False),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_CONNECTION_OPTIONS": {ldap.OPT_NETWORK_TIMEOUT: 5, ldap.OPT_TIMEOUT: 10},
        "LEDGER_LDAP_PROJECT_GROUPS": env_json_groups("LEDGER_LDAP_PROJECT_GROUPS"),
        "LEDGER_LDAP_STAFF_GROUPS": env_list("LEDGER_LDAP_STAFF_GROUPS", []),
    }
    if dn_template:
        out["AUTH_LDAP_USER_DN_TEMPLATE"] = dn_template
    else:
        out["AUTH_LDAP_USER_SEARCH"] = LDAPSearch(user_base, ldap.SCOPE_SUBTREE, env_str("LEDGER_LDAP_USER_FILTER", "(uid=%(user)s)"))
    group_base = env_str("LEDGER_LDAP_GROUP_BASE")
    if group_base:
        out["AUTH_LDAP_GROUP_SEARCH"] = LDAPSearch(group_base, ldap.SCOPE_SUBTREE, env_str("LEDGER_LDAP_GROUP_FILTER", "(objectClass=*)"))
        out["AUTH_LDAP_GROUP_TYPE"] = group_types[group_type]()
        out["AUTH_LDAP_FIND_GROUP_PERMS"] = False
    return out


def configure_signin(backends: list[str]) -> dict:
    """Settings for the sign-in methods the environment switches on; ``backends`` starts with axes'."""
    oidc, ldap_settings = _oidc(), _ldap()
    backends = list(backends)
    if ldap_settings["LEDGER_LDAP_ENABLED"]:
        backends.append("ops.signin.LedgerLDAPBackend")
    backends.append("django.contrib.auth.backends.ModelBackend")  # local accounts: instruments, admins
    if oidc["LEDGER_OIDC_ENABLED"]:
        backends.append("ops.signin.LedgerOIDCBackend")
    return {"AUTHENTICATION_BACKENDS": backends, **oidc, **ldap_settings}
