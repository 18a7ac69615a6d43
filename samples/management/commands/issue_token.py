"""Issue or revoke an API token: ``manage.py issue_token USER [--name N] [--instrument] [--project CODE] [--revoke]``.

``--instrument`` creates the user if needed (no password: it signs in with the token only) and
puts it in the ``instruments`` group, whose tokens may upload measurement files and read but not
create or change other records. ``--project`` makes it a member of a project, so it can reach
that project's samples. Issuing again under the same name replaces that token (the old one stops
working); the key is printed once and stored only as a digest (core/tokens.py).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.api.permissions import INSTRUMENT_GROUP
from core.models import ApiToken
from core.tokens import token_replace, token_revoke
from samples.models import Project

DEFAULT_NAME = "issue_token"


class Command(BaseCommand):
    help = "Issue (or --revoke) a REST API token of a user; --instrument for a measurement station."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default=DEFAULT_NAME, help=f"Name of the token (default {DEFAULT_NAME!r})")
        parser.add_argument("--revoke", action="store_true",
                            help="Revoke the user's tokens (only --name's if given); requests with them get 401")
        parser.add_argument("--instrument", action="store_true",
                            help="Create the user if missing and limit it to upload + read")
        parser.add_argument("--project", action="append", default=[], metavar="CODE",
                            help="Add the user to this project (repeatable)")

    @transaction.atomic
    def handle(self, username, name, revoke, instrument, project, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if revoke:
            if user is None:
                raise CommandError(f"No user {username!r}")
            tokens = ApiToken.objects.active().filter(user=user)
            if name != DEFAULT_NAME:
                tokens = tokens.filter(name=name)
            revoked = sum(token_revoke(t) for t in tokens)
            self.stdout.write(f"{revoked} token(s) of {username} revoked." if revoked else f"{username} had no active token.")
            return
        if user is None:
            if not instrument:
                raise CommandError(f"No user {username!r} (use --instrument to create an instrument account)")
            user = User.objects.create_user(username=username)  # unusable password: token only
        if instrument:
            user.groups.add(Group.objects.get_or_create(name=INSTRUMENT_GROUP)[0])
        for code in project:
            found = Project.objects.filter(code=code).first()
            if found is None:
                raise CommandError(f"No project {code!r}")
            found.members.add(user)
        _, key = token_replace(user=user, name=name)
        self.stdout.write(key)
