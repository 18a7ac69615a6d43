"""deploy/: compose.yaml against the Compose specification's JSON schema (check-jsonschema ships
it), the systemd units through `systemd-analyze verify` (pointed at this checkout instead of
/opt/ledger), and supervisord.conf parsed by supervisor itself. Docker and systemd do not run the
files here: this checks they are well-formed, not that they were run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .servers import unavailable

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def test_compose_file_follows_the_compose_spec():
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                           str(DEPLOY / "compose.yaml")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        unavailable("systemd-analyze not installed (Debian package systemd)")
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        name = unit.name.replace("@.service", "@1.service")
        target = tmp_path / name
        target.write_text(unit.read_text().replace("/opt/ledger", str(ROOT)))
        units.append(str(target))
    done = subprocess.run([analyze, "verify", "--man=no", *units], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
    problems = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 0 and not problems, problems


def test_supervisord_conf_parses_with_every_program():
    from supervisor.options import ServerOptions

    env = {"ENV_LEDGER_RUN_DIR": "/tmp", "ENV_LEDGER_ROOT": str(ROOT), "ENV_LEDGER_VENV": str(ROOT / ".venv"),
           "ENV_CELERY_QUEUE": "ledger", "ENV_LEDGER_WORKER_CONCURRENCY": "2", "ENV_LEDGER_CELERY_LOG_LEVEL": "info",
           "ENV_LEDGER_STOP_WAIT_S": "630"}
    options = ServerOptions()
    options.environ_expansions = env
    options.configfile = str(DEPLOY / "supervisord.conf")
    options.process_config(do_usage=False)
    programs = {group.name: group.process_configs[0] for group in options.process_group_configs}
    assert set(programs) == {"web", "worker", "beat"}
    assert programs["worker"].stopwaitsecs == 630 and programs["worker"].stopsignal == 15
    assert "worker@%h" in programs["worker"].command  # Celery's own host-name placeholder survives
    assert programs["web"].priority > programs["worker"].priority > programs["beat"].priority  # web stops first
