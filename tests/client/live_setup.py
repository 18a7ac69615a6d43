"""Run as a script (not collected): build a live-server database — migrations, the demo data with
its measurements, an instrument account and a person's token — and print what the tests need.

    DATABASE_URL=sqlite:////tmp/x/db.sqlite3 MEDIA_ROOT=/tmp/x/media python tests/client/live_setup.py
"""

from __future__ import annotations

import io
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
        printed = io.StringIO()  # tokens are stored hashed: the key exists only in issue_token's output
        call_command("issue_token", *args, stdout=printed)
        out[f"{name}_token"] = printed.getvalue().strip().splitlines()[-1]
    out["project"] = project.code
    out["pixels"] = sorted(Pixel.objects.values_list("label", flat=True))
    # Pixels with no J-L-V sweep (the demo campaign measured all of its own, three of them shorted).
    out["pixels_without_jlv"] = sorted(Pixel.objects.exclude(measurement_files__kind="jlv").values_list("label", flat=True))
    out["devices"] = {name: d.sample.label for name, d in demo["devices"].items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
