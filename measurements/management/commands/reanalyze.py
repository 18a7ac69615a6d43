from django.core.management.base import BaseCommand, CommandError

from measurements.models import MeasurementKind
from measurements.services import measurement_files_reanalyze
from samples.models import Sample


class Command(BaseCommand):
    help = ("Re-run analyses (e.g. after a method version change). New metric rows are added and "
            "the older ones marked superseded; nothing is deleted.")

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=MeasurementKind.values)
        parser.add_argument("--sample", metavar="LABEL", help="a sample and everything made from it")

    def handle(self, *args, kind=None, sample=None, **options):
        target = None
        if sample:
            target = Sample.objects.filter(label=sample).first()
            if target is None:
                raise CommandError(f"no sample labelled {sample!r}")
        counts = measurement_files_reanalyze(kind=kind, sample=target)
        total = sum(counts.values())
        detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"Re-analysed {total} file(s): {detail}")
