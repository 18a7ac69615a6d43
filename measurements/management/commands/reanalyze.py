from django.core.management.base import BaseCommand, CommandError

from measurements.forms import parse_parameters
from measurements.models import MeasurementFile, MeasurementKind
from measurements.services import IngestError, measurement_files_reanalyze
from samples.models import Sample


class Command(BaseCommand):
    help = ("Re-run analyses (after a method version change, or with new parameters). New metric rows are "
            "added and the older ones marked superseded; nothing is deleted.")

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=MeasurementKind.values)
        parser.add_argument("--sample", metavar="LABEL", help="a sample and everything made from it")
        parser.add_argument("--file", type=int, metavar="ID", help="one measurement file")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help="an analysis parameter, merged into each file's own (repeatable)")

    def handle(self, *args, kind=None, sample=None, file=None, param=(), **options):
        target = None
        if sample:
            target = Sample.objects.filter(label=sample).first()
            if target is None:
                raise CommandError(f"no sample labelled {sample!r}")
        try:
            parameters = parse_parameters("\n".join(param))
        except Exception as exc:  # forms.ValidationError: say it as the command's error
            raise CommandError(f"--param: {' '.join(getattr(exc, 'messages', [str(exc)]))}") from None
        if file is not None and not MeasurementFile.objects.filter(pk=file).exists():
            raise CommandError(f"no measurement file {file}")
        try:
            counts = measurement_files_reanalyze(kind=kind, sample=target, parameters=parameters or None, file_id=file)
        except IngestError as exc:
            raise CommandError(str(exc)) from None
        total = sum(counts.values())
        detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"Re-analysed {total} file(s): {detail}")
