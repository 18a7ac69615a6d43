from django.core.management.base import BaseCommand

from portal.demo import DEMO_PASSWORD, DEMO_USER, load_demo


class Command(BaseCommand):
    help = "Load the reference process (PROCESS.md) as demo data. Safe to run twice."

    def handle(self, *args, **options):
        summary = load_demo()
        if summary["created"]:
            self.stdout.write(self.style.SUCCESS("Demo data loaded: chemicals, recipes, runs, lineage, two stacks."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write(f"Demo login: {DEMO_USER} / {DEMO_PASSWORD}")
