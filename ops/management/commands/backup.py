"""``manage.py backup DIR``: the database and every file it names, consistently (ops/backup.py)."""

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database (pg_dump custom format, or the SQLite file) and the file store into DIR."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="A new (or empty) directory for the backup")

    def handle(self, directory, **options):
        try:
            manifest = backup_create(directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        counts = ", ".join(f"{n} {name}" for name, n in manifest["counts"].items())
        size = sum(f["size_bytes"] for f in manifest["files"])
        self.stdout.write(f"backup in {directory}: {manifest['database']['dump']} ({manifest['database']['size_bytes']} B), "
                          f"{len(manifest['files'])} files ({size} B); {counts}")
