"""Issue or revoke an API token: ``manage.py issue_token USER [--instrument] [--project CODE] [--revoke]``.

``--instrument`` creates the user if needed (no password: it signs in with the token only) and
puts it in the ``instruments`` group, whose tokens may upload measurement files and read but not
create or change other records. ``--project`` makes it a member of a project, so it can reach
that project's samples. Issuing again replaces the token (the old one stops working).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.api.permissions import INSTRUMENT_GROUP
from samples.models import Project


class Command(BaseCommand):
    help = "Issue (or --revoke) the REST API token of a user; --instrument for a measurement station."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="Delete the token; requests with it get 401")
        parser.add_argument("--instrument", action="store_true",
                            help="Create the user if missing and limit it to upload + read")
        parser.add_argument("--project", action="append", default=[], metavar="CODE",
                            help="Add the user to this project (repeatable)")

    @transaction.atomic
    def handle(self, username, revoke, instrument, project, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if revoke:
            if user is None:
                raise CommandError(f"No user {username!r}")
            deleted, _ = Token.objects.filter(user=user).delete()
            self.stdout.write(f"Token of {username} revoked." if deleted else f"{username} had no token.")
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
        Token.objects.filter(user=user).delete()  # a new token replaces the old one
        token = Token.objects.create(user=user)
        self.stdout.write(token.key)
