"""``manage.py restore DIR``: into an empty database (DATABASE_URL) and storage; then ``migrate``."""

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup made by manage.py backup into an empty database and file store."

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, directory, **options):
        try:
            counts = backup_restore(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        found = ", ".join(f"{n} {name}" for name, n in counts.items())
        self.stdout.write(f"restored from {directory}: {found}. Next: manage.py migrate (a newer LEDger "
                          "upgrades the restored schema), then manage.py verify_files.")
