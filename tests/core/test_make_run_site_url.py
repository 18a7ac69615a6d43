"""Issue 14: SITE_URL (the QR codes' base) follows the port `make run` serves on."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_run_passes_its_own_port_to_site_url():
    out = subprocess.run(["make", "-n", "run", "PORT=8123", "STAMP=Makefile"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    line = next(line for line in out.splitlines() if "runserver" in line)
    assert "SITE_URL=http://127.0.0.1:8123" in line and line.endswith("runserver 127.0.0.1:8123")
    out = subprocess.run(["make", "-n", "run", "HOST=0.0.0.0", "SITE_URL=http://10.0.0.5:8000", "STAMP=Makefile"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "SITE_URL=http://10.0.0.5:8000" in next(line for line in out.splitlines() if "runserver" in line)
