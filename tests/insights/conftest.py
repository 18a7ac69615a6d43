"""The demo campaign, generated and analysed once per test session (pure Python, ~10 s)."""

from __future__ import annotations

import dataclasses

import pytest

from insights.science.campaign import generate


@pytest.fixture(scope="session")
def campaign():
    return generate()


@pytest.fixture(scope="session")
def analysed(campaign):
    from tests.insights.campaign_frame import analysed_rows

    return analysed_rows(campaign)


def first_weeks(campaign, weeks: int):
    """The campaign cut to its first ``weeks`` weeks (week 4 holds the bad PEAI lot)."""
    devices = [d for d in campaign.devices if d.week <= weeks]
    return dataclasses.replace(campaign, weeks=weeks, devices=devices,
                               precursors=[p for p in campaign.precursors if p.week <= weeks])


@pytest.fixture
def loaded_campaign(db, demo, campaign, django_capture_on_commit_callbacks):
    """Weeks 1–4 of the campaign in the database (20 devices, film v1–v2, the bad lot), through
    the real services and the measurement pipeline (its analyses run on commit, as in load_demo)."""
    from insights.demo import load_campaign

    with django_capture_on_commit_callbacks(execute=True):
        return load_campaign(project=demo["project"], user=demo["user"], campaign=first_weeks(campaign, 4))
