"""python manage.py export_peled --project qd-in-matrix -o devices.xlsx
python manage.py export_peled --dictionary > docs/peled-columns.md"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from exchange.peled.columns import dictionary_markdown
from exchange.peled_selectors import peled_devices_for, peled_table, to_csv, to_xlsx


class Command(BaseCommand):
    help = "Devices as a Perovskite-Database-shaped table (CSV or xlsx), or its column dictionary."

    def add_arguments(self, parser):
        parser.add_argument("--project", help="Project code (default: every device)")
        parser.add_argument("--devices", help="Comma-separated device labels")
        parser.add_argument("-o", "--output", help="devices.csv or devices.xlsx (default: CSV on stdout)")
        parser.add_argument("--dictionary", action="store_true", help="Print the column dictionary (Markdown)")

    def handle(self, *args, project, devices, output, dictionary, **opts):
        if dictionary:
            self.stdout.write(dictionary_markdown(), ending="")
            return
        who = get_user_model()(is_superuser=True, username="export")
        labels = [x.strip() for x in (devices or "").split(",") if x.strip()] or None
        frame = peled_table(peled_devices_for(who, project=project, labels=labels), who)
        if output and output.endswith(".xlsx"):
            content = to_xlsx(frame)
        elif not output or output.endswith(".csv"):
            content = to_csv(frame)
        else:
            raise CommandError("--output must end in .csv or .xlsx")
        if output:
            with open(output, "wb") as fh:
                fh.write(content)
            self.stdout.write(f"{output}: {len(frame)} devices, {len(frame.columns)} columns")
        else:
            self.stdout.write(content.decode("utf-8"), ending="")
