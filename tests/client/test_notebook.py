"""The notebook in docs/ runs, top to bottom, in a real Jupyter kernel (nbclient) against a live
server with the demo data, and answers with the reference EQE at the demo's drip volume."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "notebooks" / "best_drip_volume.ipynb"
pytestmark = pytest.mark.live_server


def test_best_drip_volume_notebook_runs_against_a_live_server(shared_server, monkeypatch, answers):
    monkeypatch.setenv("LEDGER_URL", shared_server.url)
    monkeypatch.setenv("LEDGER_TOKEN", shared_server.info["lead_token"])
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", []))
    found = re.search(r"Best EQE: ([\d.]+) % at a drip volume of ([\d.]+) µL \((\d+) pixel", text)
    assert found, text
    led = answers["led"]
    assert float(found.group(1)) == pytest.approx(led["eqe_max_percent"], abs=0.01 + led["eqe_max_percent"] * led["tolerance"]["eqe_rel"])
    assert float(found.group(2)) == 150 and int(found.group(3)) == 1
