from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from insights.demo import campaign_loaded, load_campaign
from samples.models import Project


class Command(BaseCommand):
    help = ("Add the demo campaign (30 devices over three film-recipe versions, insights.science.campaign) to a "
            "database whose demo was loaded before it existed. load_demo includes it; safe to run twice.")

    def add_arguments(self, parser):
        # The demo's project and user (portal.demo, a layer above this app, names them).
        parser.add_argument("--project", default="qd-in-matrix")
        parser.add_argument("--user", default="demo")

    def handle(self, *args, **options):
        project = Project.objects.filter(code=options["project"]).first()
        user = get_user_model().objects.filter(username=options["user"]).first()
        if project is None or user is None:
            raise CommandError("no demo data here: run `python manage.py load_demo` (it includes the campaign)")
        if campaign_loaded():
            self.stdout.write("The campaign is already loaded; nothing changed.")
            return
        summary = load_campaign(project=project, user=user)
        self.stdout.write(self.style.SUCCESS(f"Campaign loaded: {len(summary['devices'])} devices, {summary['runs']} runs, "
                                             f"{summary['files']} files."))
