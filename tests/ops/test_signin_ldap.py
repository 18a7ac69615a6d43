"""LDAP sign-in against a real slapd: users created on first login with their directory names,
project membership and staff from directory groups, both following the directory on each login."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from tests.api import factories as f

from .servers import LDAP_BASE, unavailable

pytestmark = pytest.mark.django_db
QD_LAB = f"cn=qd-lab,ou=groups,{LDAP_BASE}"


@pytest.fixture
def ldap_on(slapd, settings, monkeypatch, db):
    try:
        import django_auth_ldap  # noqa: F401
        import ldap  # noqa: F401
    except ImportError:
        unavailable("django-auth-ldap/python-ldap not installed (apt-get install libldap2-dev libsasl2-dev; make install-ldap)")
    env = {"AUTH_LDAP_SERVER_URI": slapd.uri, "LEDGER_LDAP_USER_BASE": f"ou=people,{LDAP_BASE}",
           "LEDGER_LDAP_GROUP_BASE": f"ou=groups,{LDAP_BASE}",
           "LEDGER_LDAP_PROJECT_GROUPS": json.dumps({QD_LAB: ["alpha"], "blue-lab": ["beta"]}),
           "LEDGER_LDAP_STAFF_GROUPS": "lab-managers"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from config.signin import configure_signin

    for name, value in configure_signin(["axes.backends.AxesStandaloneBackend"]).items():
        setattr(settings, name, value)
    assert "ops.signin.LedgerLDAPBackend" in settings.AUTHENTICATION_BACKENDS
    alpha, beta = f.project("alpha"), f.project("beta")
    return slapd, alpha, beta


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_first_login_creates_the_user_with_projects_from_groups(client, ldap_on):
    slapd, alpha, beta = ldap_on
    response = login(client, "carla", "carla-ldap-pw")
    assert response.status_code == 302, response.content.decode()[:500]
    carla = get_user_model().objects.get(username="carla")
    assert (carla.first_name, carla.last_name, carla.email) == ("Carla", "Rossi", "carla@uni.example")
    assert not carla.has_usable_password()  # the directory keeps the password
    assert list(carla.ledger_projects.values_list("code", flat=True)) == ["alpha"]
    assert not carla.is_staff
    assert client.get("/samples/").status_code == 200


def test_wrong_password_and_unknown_user_are_refused(client, ldap_on):
    assert login(client, "carla", "not-her-password").status_code == 200  # the form again
    assert login(client, "nobody", "x").status_code == 200
    assert not get_user_model().objects.filter(username__in=["carla", "nobody"]).exists()


def test_staff_from_a_group_and_membership_follows_the_directory(client, ldap_on):
    import ldap

    slapd, alpha, beta = ldap_on
    assert login(client, "dmitri", "dmitri-ldap-pw").status_code == 302
    dmitri = get_user_model().objects.get(username="dmitri")
    assert dmitri.is_staff and not dmitri.is_superuser
    assert not dmitri.ledger_projects.exists()
    alpha.members.add(dmitri)  # by hand: a mapped project, so the directory decides
    other = f.project("gamma")
    other.members.add(dmitri)  # not in the mapping: left alone
    slapd.modify(QD_LAB, [(ldap.MOD_ADD, "member", [f"uid=dmitri,ou=people,{LDAP_BASE}".encode()])])
    slapd.modify(QD_LAB, [(ldap.MOD_DELETE, "member", [f"uid=carla,ou=people,{LDAP_BASE}".encode()])])
    try:
        client.logout()
        assert login(client, "dmitri", "dmitri-ldap-pw").status_code == 302
        assert sorted(dmitri.ledger_projects.values_list("code", flat=True)) == ["alpha", "gamma"]
        client.logout()
        assert login(client, "carla", "carla-ldap-pw").status_code == 302
        carla = get_user_model().objects.get(username="carla")
        assert not carla.ledger_projects.filter(code="alpha").exists()  # left the group: left the project
    finally:  # the directory as the other tests expect it (a groupOfNames is never empty)
        slapd.modify(QD_LAB, [(ldap.MOD_REPLACE, "member", [f"uid=carla,ou=people,{LDAP_BASE}".encode()])])


def test_local_accounts_still_sign_in_and_instruments_stay_local(client, ldap_on):
    f.user("admin-local")
    assert login(client, "admin-local", "pw-for-tests").status_code == 302
    client.logout()
    f.user("jlv-rig-1", instrument=True)  # the directory has a uid of the same name
    assert login(client, "jlv-rig-1", "rig-ldap-pw").status_code == 200  # refused, not taken over
