"""``manage.py verify_files [--json]``: every stored file's sha256 and size against its row."""

import json

from django.core.management.base import BaseCommand, CommandError

from ops.backup import files_verify


class Command(BaseCommand):
    help = "Read every stored measurement file and check its sha256 and size against the database."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the report as JSON")

    def handle(self, as_json: bool = False, **options):
        report = files_verify()
        if as_json:
            self.stdout.write(json.dumps({"checked": report.checked, "bytes": report.bytes, "problems": report.problems}, indent=1))
        else:
            for problem in report.problems:
                self.stderr.write(problem)
            self.stdout.write(f"{report.checked} files checked ({report.bytes} B): "
                              f"{len(report.problems) or 'no'} problem(s)")
        if report.problems:
            raise CommandError(f"{len(report.problems)} of {report.checked} stored files do not match their rows")

