"""A device's lifetime runs are fitted once each (issue 15).

Every lifetime file of a device goes into one analysis (the acceleration fit L0ⁿ·T50 = C across
its runs), so each new run used to re-parse and re-fit every earlier run. A run's own numbers
(L0, T_x, τ, β) depend on its readings alone: once stored (a ``per_file`` entry of the current
lifetime analysis, with its curves), they stand in for the run (``analysis.lifetime.StoredRun``)
and only the new run is parsed and fitted; the cross-run fit is recomputed from the stored per-run
values, which gives the numbers a from-scratch analysis of every run gives.

A stored run is reused only when it was stored for the same file, by the same method version, read
with the same parse options and analysed with the same parameters (its ``run_basis``); anything
else — and a forced re-analysis — fits the run again.
"""

from __future__ import annotations

import json
from typing import Any

from .analysis.base import AnalysisResult, jsonable
from .analysis.lifetime import StoredRun
from .analysis.registry import get_spec
from .models import Analysis, MeasurementKind


def run_basis(file_id: int, parse_options: dict | None, params: dict[str, Any]) -> dict[str, Any]:
    """What a run's stored result depends on besides its bytes (which never change)."""
    basis = {"file": file_id, "version": get_spec(MeasurementKind.LIFETIME).version,
             "parse_options": parse_options or None, "parameters": params}
    return json.loads(json.dumps(jsonable(basis), sort_keys=True))  # as it reads back from the database


def stored_runs(sample_id: int, file_ids: list[int], parse_options: dict | None,
                params: dict[str, Any]) -> dict[int, StoredRun]:
    """The runs among ``file_ids`` whose own result is stored in a current lifetime analysis of
    the sample on the same basis (file id → StoredRun); the newest analysis wins."""
    wanted = {pk: run_basis(pk, parse_options, params) for pk in file_ids}
    found: dict[int, StoredRun] = {}
    results = (Analysis.objects.filter(sample=sample_id, kind=MeasurementKind.LIFETIME, superseded=False)
               .order_by("-created_at", "-id").values_list("result", flat=True))
    for result in results:
        arrays = (result or {}).get("arrays") or {}
        for k, entry in enumerate((result or {}).get("per_file") or []):
            pk = (entry.get("run_basis") or {}).get("file")
            if pk in wanted and pk not in found and entry["run_basis"] == wanted[pk]:
                run = StoredRun.from_stored(entry, arrays, k)
                if run is not None:
                    found[pk] = run
    return found


def label_runs(result: AnalysisResult, file_ids: list[int], parse_options: dict | None,
               params: dict[str, Any]) -> None:
    """Record on each ``per_file`` entry (in input order) the file and basis it came from, so a
    later analysis of the device can reuse it."""
    if len(result.per_file) != len(file_ids):
        return
    for entry, pk in zip(result.per_file, file_ids, strict=True):
        entry["run_basis"] = run_basis(pk, parse_options, params)
