"""python manage.py import_eln archive.eln --project imported [--user alice]"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from exchange.services import ImportRefused, eln_import


class Command(BaseCommand):
    help = "Import an .eln archive (LEDger's or another ELN's) into a project; files are analysed as uploads."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--project", required=True, help="Project code (created if missing)")
        parser.add_argument("--user", help="Owner of the imported samples and files")

    def handle(self, *args, archive, project, user, **opts):
        path = Path(archive)
        if not path.is_file():
            raise CommandError(f"{archive}: no such file")
        who = None
        if user:
            who = get_user_model().objects.filter(username=user).first()
            if who is None:
                raise CommandError(f"no user {user!r}")
        try:
            result = eln_import(path.read_bytes(), project_code=project, user=who)
        except ImportRefused as exc:
            raise CommandError(f"{archive}: not imported — {exc}") from None
        self.stdout.write(f"{archive} ({result.source}): {len(result.samples)} samples, {result.files} files into {project}")
        for sample in result.samples:
            self.stdout.write(f"  {sample.label}  {sample.get_kind_display()}  {sample.name}")
        for warning in result.warnings:
            self.stderr.write(f"  not imported: {warning}")
