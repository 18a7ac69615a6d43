"""Create the provider's database, its users and groups, and LEDger's client registration."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.ops.oidc_provider.settings")
django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import get_application_model  # noqa: E402

call_command("migrate", verbosity=0)
people = {"erin": ("Erin", "Okafor", ["qd-lab"]), "farid": ("Farid", "Haddad", ["qd-lab", "lab-managers"]),
          "mallory": ("Mallory", "Local", []), "gus": ("Gus", "Nobody", ["other-dept"])}
for username, (first, last, groups) in people.items():
    user = User.objects.create_user(username, email=f"{username}@uni.example", password=f"{username}-idp-pw",
                                    first_name=first, last_name=last)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
Application = get_application_model()
Application.objects.create(
    name="LEDger", client_id=os.environ["OIDC_TEST_CLIENT_ID"], client_secret=os.environ["OIDC_TEST_CLIENT_SECRET"],
    client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    redirect_uris=os.environ["OIDC_TEST_REDIRECT_URI"], algorithm=Application.RS256_ALGORITHM, skip_authorization=True)
print("bootstrapped")
