"""Writes of the insights app: a proposed batch becomes planned runs through samples.services.run_plan
(one run per proposal, its planned values set to the proposal, ready for the traveller)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from recipes.models import RecipeVersion
from samples.models import ProcessRun, Project
from samples.services import run_plan


@transaction.atomic
def proposals_plan(*, version: RecipeVersion, project: Project, user, proposals: list[dict[str, float]],
                   planned_date: dt.date | None = None, note: str = "") -> list[ProcessRun]:
    """``proposals``: one {"<step>.<key>": value} per run. All or nothing: a value outside the
    recipe's range refuses the whole batch (ValidationError naming the parameter)."""
    runs = []
    for k, planned in enumerate(proposals, start=1):
        notes = f"Proposal {k} of {len(proposals)} from Insights › Suggest. {note}".strip()
        runs.append(run_plan(version=version, project=project, operator=user, planned_date=planned_date,
                             notes=notes, planned=planned))
    return runs
