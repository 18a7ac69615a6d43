"""python manage.py export_eln --project qd-in-matrix -o demo.eln
python manage.py export_eln DEV-0001 FILM-0001 -o two.eln   (samples with what they were made from)"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from exchange.eln import write_eln
from exchange.selectors import project_archive, samples_archive
from samples.models import Project, Sample


class Command(BaseCommand):
    help = "Write a project or samples (with their lineage) as an .eln archive (RO-Crate 1.1 in a ZIP)."

    def add_arguments(self, parser):
        parser.add_argument("labels", nargs="*", help="Sample labels (their ancestors come along)")
        parser.add_argument("--project", help="Project code: export all of its samples")
        parser.add_argument("-o", "--output", help="File to write (default: <root folder>.eln)")
        parser.add_argument("--user", help="Export as this user (default: a superuser sees everything)")

    def handle(self, *args, labels, project, output, user, **opts):
        if bool(labels) == bool(project):
            raise CommandError("Give sample labels or --project CODE (one of the two).")
        User = get_user_model()
        who = User.objects.filter(username=user).first() if user else User(is_superuser=True, username="export")
        if who is None:
            raise CommandError(f"no user {user!r}")
        if project:
            found = Project.objects.filter(code=project).first()
            if found is None:
                raise CommandError(f"no project {project!r}")
            archive = project_archive(found, who)
        else:
            qs = Sample.objects.filter(label__in=labels)
            missing = sorted(set(labels) - set(qs.values_list("label", flat=True)))
            if missing:
                raise CommandError(f"no sample labelled {', '.join(missing)}")
            archive = samples_archive(qs, who)
        content = write_eln(archive)
        path = output or f"{archive.root}.eln"
        with open(path, "wb") as fh:
            fh.write(content)
        files = sum(len(d.files) for d in archive.datasets)
        self.stdout.write(f"{path}: {len(archive.datasets)} datasets, {files} files, {len(content) / 1e3:.1f} kB")
