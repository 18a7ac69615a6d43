"""python manage.py traveller LABEL [LABEL ...] -o FILE.pdf [--pagesize Letter] [--labels [--layout roll-62mm]]

LABEL is a sample (FILM-0001) or a run (RUN-0006). Many labels print as one PDF, one sheet each,
in the order given. ``--labels`` prints the vial-label sheet of the samples instead (a run label
stands for its output samples). Runs from the shell, so no project restriction applies.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal.travellers import sheet_for_sample, sheets_for_runs
from samples.models import ProcessRun, Sample
from samples.traveller import LABEL_LAYOUTS, render_labels, render_travellers
from samples.traveller.pdf import PAGE_SIZES
from samples.travellers import labels_for_samples


class Command(BaseCommand):
    help = "Print traveller sheets (or vial labels) for samples and runs to one PDF."

    def add_arguments(self, parser):
        parser.add_argument("labels", nargs="+", metavar="LABEL", help="sample labels or run labels (RUN-0001)")
        parser.add_argument("-o", "--output", required=True, help="PDF file to write")
        parser.add_argument("--pagesize", choices=list(PAGE_SIZES), default="A4")
        parser.add_argument("--labels", dest="vial_labels", action="store_true", help="print vial labels instead")
        parser.add_argument("--layout", choices=list(LABEL_LAYOUTS), default="a4-3x10", help="label stock (with --labels)")

    def handle(self, *args, **options):
        wanted = list(dict.fromkeys(options["labels"]))
        runs = {r.label: r for r in ProcessRun.objects.filter(label__in=wanted)}
        samples = {s.label: s for s in Sample.objects.filter(label__in=wanted).select_related("project")}
        unknown = [x for x in wanted if x not in runs and x not in samples]
        if unknown:
            raise CommandError(f"No sample or run with label {', '.join(unknown)}")

        if options["vial_labels"]:
            targets: list[Sample] = []
            for label in wanted:
                targets += list(runs[label].outputs.order_by("label")) if label in runs else [samples[label]]
            if not targets:
                raise CommandError("Those runs have no output samples to label yet.")
            pdf = render_labels(labels_for_samples(targets), layout=options["layout"])
            count = f"{len(targets)} label(s)"
        else:
            # Runs go through one batched selector call; samples one by one (each adds its results).
            run_sheets = iter(sheets_for_runs([runs[x] for x in wanted if x in runs]))
            sheets = [next(run_sheets) if x in runs else sheet_for_sample(samples[x]) for x in wanted]
            pdf = render_travellers(sheets, pagesize=options["pagesize"])
            count = f"{len(sheets)} sheet(s)"

        out = Path(options["output"])
        out.write_bytes(pdf)
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} to {out}"))
