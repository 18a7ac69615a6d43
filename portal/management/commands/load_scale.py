"""``manage.py load_scale [--scale 0.05]``: the issue-15 scale fixture (portal/scale.py) into an empty database."""

from django.core.management.base import BaseCommand, CommandError

from portal import scale as fixture


class Command(BaseCommand):
    help = "Bulk-load a lab's decade (100k samples, 1M metrics at --scale 1) into an empty, migrated database."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="Multiplies every row count (default 1)")
        parser.add_argument("--seed", type=int, default=15)

    def handle(self, *args, scale: float, seed: int, **options):
        if not 0 < scale <= 10:
            raise CommandError("--scale must be in (0, 10]")
        try:
            summary = fixture.load(scale, seed=seed, log=self.stdout.write)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        for table, n in summary.counts.items():
            self.stdout.write(f"{table:34} {n:>10,}")
        self.stdout.write(f"loaded in {summary.seconds:.0f} s; users alice, lead, admin (password {fixture.PASSWORD!r})")

