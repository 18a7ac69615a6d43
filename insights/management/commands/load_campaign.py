from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from insights.demo import campaign_loaded, load_campaign
from samples.models import Project


class Command(BaseCommand):
    help = ("Add the demo campaign (30 devices over three film-recipe versions, insights.science.campaign) to a "
            "database whose demo was loaded before it existed. load_demo includes it; safe to run twice.")

    def handle(self, *args, **options):
        from core.demo import DEMO_PROJECT, DEMO_USER

        project = Project.objects.filter(code=DEMO_PROJECT).first()
        user = get_user_model().objects.filter(username=DEMO_USER).first()
        if project is None or user is None:
            raise CommandError("no demo data here: run `python manage.py load_demo` (it includes the campaign)")
        if campaign_loaded():
            self.stdout.write("The campaign is already loaded; nothing changed.")
            return
        summary = load_campaign(project=project, user=user)
        self.stdout.write(self.style.SUCCESS(f"Campaign loaded: {len(summary['devices'])} devices, {summary['runs']} runs, "
                                             f"{summary['files']} files."))
