"""The notebook in docs/ runs, top to bottom, in a real Jupyter kernel (nbclient) against a live
server with the demo data, and answers with the demo campaign's ground truth: the pixel made with the
highest true EQE (insights/science/campaign.py, its own forward model), at its device's drip volume,
with every working pixel of that volume counted."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from insights.science.campaign import generate

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
    truth = pd.DataFrame(generate().truth_table())
    best = truth.loc[truth["eqe_peak_percent"].idxmax()]
    same_volume = truth[(truth["drip_ul"] == best["drip_ul"]) & ~truth["shorted"]]
    # The analysis recovers EQE_peak within its tolerance from noisy J-L-V + EL files (answers.json).
    tolerance = answers["led"]["tolerance"]["eqe_rel"]
    assert float(found.group(1)) == pytest.approx(best["eqe_peak_percent"], rel=max(tolerance, 0.02))
    assert float(found.group(2)) == pytest.approx(best["drip_ul"], abs=0.5)
    assert int(found.group(3)) == len(same_volume)
