import sys

from django.core.management.base import BaseCommand, CommandError

from measurements.services import analyses_backfill_overlays


class Command(BaseCommand):
    help = ("Store Compare's downsampled curves on analyses stored before they were kept (an upgrade step: "
            "Compare works without it, thinning those analyses' stored arrays on every page). Reads each "
            "analysis's stored curves only: nothing is re-analysed, no metric changes. Safe to interrupt and "
            "run again.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, metavar="N",
                            help="analyses read and updated per query (default 500)")

    def handle(self, *args, batch=500, verbosity=1, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        show = verbosity >= 1 and sys.stdout.isatty()

        def progress(done, total):
            if show:
                self.stdout.write(f"\r{done:,} / {total:,} analyses", ending="")
                self.stdout.flush()

        counts = analyses_backfill_overlays(batch=batch, progress=progress)
        if show:
            self.stdout.write("")
        line = f"Stored Compare curves on {counts['stored']:,} analyses"
        if counts["failed"]:
            line += (f"; {counts['failed']:,} could not be built from their stored arrays (see the log) and keep "
                     "none — Compare thins their arrays as before")
        self.stdout.write(line if counts["stored"] or counts["failed"] else "Every analysis has its Compare curves")
