"""Run as a script (not collected): build a live-server database — migrations, the demo data with
its measurements, an instrument account and a person's token — and print what the tests need.

    DATABASE_URL=sqlite:////tmp/x/db.sqlite3 MEDIA_ROOT=/tmp/x/media python tests/client/live_setup.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the demo user's hash: fast


def main() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    from portal.demo import load_demo

    demo = load_demo()
    from devices.models import Pixel
    from samples.models import Project

    project = Project.objects.get(code="qd-in-matrix")
    out = {}
    for name, args in (("station", ["station", "--instrument", "--project", project.code]), ("lead", ["demo"])):
        call_command("issue_token", *args, stdout=open(os.devnull, "w"))
        out[f"{name}_token"] = Token.objects.get(user__username=args[0]).key
    out["project"] = project.code
    out["pixels"] = sorted(Pixel.objects.values_list("label", flat=True))
    out["devices"] = {name: d.sample.label for name, d in demo["devices"].items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
