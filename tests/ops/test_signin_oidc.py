"""OIDC single sign-on against a real provider (django-oauth-toolkit in its own gunicorn process):
authorization code + PKCE, RS256 ID token checked against the provider's JWKS, userinfo with a
group claim. Users are created on first login with projects and staff from their groups."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model

from tests.api import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def oidc_on(oidc_provider, settings, monkeypatch, db):
    for name, value in oidc_provider.settings_env().items():
        monkeypatch.setenv(name, value)
    from config.signin import configure_signin

    for name, value in configure_signin(["axes.backends.AxesStandaloneBackend"]).items():
        setattr(settings, name, value)
    settings.ROOT_URLCONF = "tests.ops.oidc_urls"
    assert settings.AUTHENTICATION_BACKENDS[-1] == "ops.signin.LedgerOIDCBackend"
    return oidc_provider, f.project("alpha"), f.project("beta")


def sign_in(client, provider, username: str, password: str):
    """The browser's part: LEDger → provider login → consent skipped → back to LEDger's callback."""
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(provider.base + "/o/authorize/")
    assert "code_challenge=" in authorize  # PKCE
    browser = requests.Session()
    login_url = f"{provider.base}/accounts/login/"
    page = browser.get(login_url, params={"next": authorize[len(provider.base):]}, timeout=10)
    csrf = browser.cookies["csrftoken"]
    done = browser.post(login_url, data={"username": username, "password": password, "csrfmiddlewaretoken": csrf,
                                         "next": authorize[len(provider.base):]},
                        headers={"Referer": page.url}, allow_redirects=False, timeout=10)
    assert done.status_code == 302, "the provider did not accept the test user's password"
    back = browser.get(authorize, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:500]
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/oidc/callback/" and "code" in parse_qs(callback.query)
    return client.get(f"{callback.path}?{callback.query}")  # LEDger swaps the code at the provider


def test_first_sign_in_creates_the_user_with_projects(client, oidc_on):
    provider, alpha, beta = oidc_on
    response = sign_in(client, provider, "erin", "erin-idp-pw")
    assert response.status_code == 302 and response["Location"] == "/"
    erin = get_user_model().objects.get(username="erin")
    assert (erin.first_name, erin.last_name, erin.email) == ("Erin", "Okafor", "erin@uni.example")
    assert not erin.has_usable_password()
    assert list(erin.ledger_projects.values_list("code", flat=True)) == ["alpha"]
    assert not erin.is_staff
    assert client.get("/samples/").status_code == 200  # signed in


def test_staff_group_and_second_sign_in(client, oidc_on):
    provider, alpha, beta = oidc_on
    assert sign_in(client, provider, "farid", "farid-idp-pw").status_code == 302
    farid = get_user_model().objects.get(username="farid")
    assert farid.is_staff and list(farid.ledger_projects.values_list("code", flat=True)) == ["alpha"]
    beta.members.add(farid)  # by hand, in a project the mapping manages: the IdP's groups decide
    client.logout()
    assert sign_in(client, provider, "farid", "farid-idp-pw").status_code == 302
    assert get_user_model().objects.filter(username="farid").count() == 1
    assert list(farid.ledger_projects.values_list("code", flat=True)) == ["alpha"]


def test_no_mapped_group_signs_in_without_projects(client, oidc_on):
    provider, _, _ = oidc_on
    assert sign_in(client, provider, "gus", "gus-idp-pw").status_code == 302
    assert not get_user_model().objects.get(username="gus").ledger_projects.exists()


def test_a_local_account_is_not_taken_over(client, oidc_on):
    provider, _, _ = oidc_on
    local = f.user("mallory")  # a local account with a password, same name at the IdP
    response = sign_in(client, provider, "mallory", "mallory-idp-pw")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?sso=failed"
    assert "_auth_user_id" not in client.session
    local.refresh_from_db()
    assert local.has_usable_password()
    page = client.get("/accounts/login/?sso=failed").content.decode()
    assert "Single sign-on did not sign you in" in page


def test_login_page_offers_single_sign_on(client, oidc_on):
    page = client.get("/accounts/login/").content.decode()
    assert 'id="sso-login"' in page and "/oidc/authenticate/" in page
