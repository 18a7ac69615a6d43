"""List endpoints: the number of queries does not grow with the page size (5 vs 50 rows)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from . import factories as f

LISTS = ["chemicals", "lots", "recipes", "recipe-versions", "recipe-parameters", "runs", "samples", "devices",
         "pixels", "measurements", "metrics"]


@pytest.fixture
def many(world):
    for i in range(8):  # 8 more devices → 18+ samples, 40 pixels, runs, recipes, metrics, files
        dev = f.device(world.alpha, world.alice)
        for pixel in dev.pixels.all():
            f.metric(dev, value=i, pixel=pixel)
        f.stored_file(dev, world.alice, content=f"file {i}\n".encode())
    for i in range(50):
        f.chemical(f"Chemical {i}")
    return world


@pytest.mark.django_db
@pytest.mark.parametrize("name", LISTS)
def test_list_queries_do_not_grow_with_page_size(many, client_for, name, django_assert_max_num_queries):
    client = client_for(many.alice)
    with CaptureQueriesContext(connection) as small:
        response = client.get(f"/api/v1/{name}/?limit=5")
    assert response.status_code == 200 and len(response.json()["results"]) == 5
    with django_assert_max_num_queries(len(small)):
        response = client.get(f"/api/v1/{name}/?limit=50")
    assert len(response.json()["results"]) > 5
    assert len(small) <= 6  # auth + count + page (+ prefetches)


@pytest.mark.django_db
def test_export_queries_are_bounded(many, client_for, django_assert_max_num_queries):
    client = client_for(many.alice)
    client.get("/api/v1/samples/?limit=1")  # a token's first use also records last_used_at (once a minute)
    # auth; the header: metric columns, parameter columns, repeated stack layer names; the stream:
    # metric rows, then per 500 samples one recursive lineage query, visibility, RunValues, repeated
    # layer names (samples.selectors._repeated_step_names)
    with django_assert_max_num_queries(9):
        response = client.get("/api/v1/metrics/export?format=csv")
        assert response.status_code == 200 and response.streaming
        body = b"".join(response.streaming_content).decode()
    assert body.count("\n") == 1 + 33  # header + 4 pixels × 8 devices + 1 of world
