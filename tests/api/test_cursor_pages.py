"""Deep API pages by keyset cursor (issue 15): the same rows as offsets, in the same order."""

from __future__ import annotations

import pytest

from . import factories as f


@pytest.fixture
def metrics(world):
    dev = f.device(world.alpha, world.alice)
    for i in range(13):
        f.metric(dev, "eqe_max" if i % 2 else "luminance_max", float(i), pixel=dev.pixels.get(name="ABCD"[i % 4]),
                 superseded=i < 9)  # the last four current, one per pixel and name
    return world


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "&ordering=-value", "&ordering=created_at", "&name=eqe_max"])
def test_following_cursors_gives_the_offset_pages_rows(metrics, client_for, query):
    client = client_for(metrics.alice)
    everything = [m["id"] for m in client.get(f"/api/v1/metrics/?limit=500{query}").json()["results"]]
    assert len(everything) > 4
    seen, url, pages = [], f"/api/v1/metrics/?limit=3{query}", 0
    while url:
        body = client.get(url).json()
        seen += [m["id"] for m in body["results"]]
        url = body["next_cursor"]
        if pages:  # a cursor page links onwards by cursor, and not back by offset
            assert body["previous"] is None and body["next"] == body["next_cursor"]
        pages += 1
        assert pages < 20
    assert seen == everything
    assert body["count"] == len(everything) and body["count_estimated"] is False


@pytest.mark.django_db
def test_a_foreign_or_broken_cursor_is_a_400(metrics, client_for):
    client = client_for(metrics.alice)
    cursor = client.get("/api/v1/metrics/?limit=2").json()["next_cursor"].split("cursor=")[1]
    assert client.get(f"/api/v1/metrics/?cursor={cursor}&ordering=-value").status_code == 400
    assert client.get("/api/v1/metrics/?cursor=not-a-cursor").status_code == 400
    assert client.get(f"/api/v1/samples/?cursor={cursor}").status_code == 400
    # a cursor cannot widen what the user sees: bob's pages have none of alpha's rows
    ids = [m["id"] for m in client_for(metrics.bob).get(f"/api/v1/metrics/?cursor={cursor}").json()["results"]]
    assert not set(ids) & {m["id"] for m in client.get("/api/v1/metrics/?limit=500").json()["results"]}


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "&ordering=-value", "&name=eqe_max"])
def test_deep_offset_pages_by_deferred_join_are_the_slices_rows(metrics, client_for, query, monkeypatch):
    """Past DEFERRED_OFFSET a page's ids come first and then their rows: the same rows, in the same
    order, with the same count and links, as the plain slice (here from offset 2 on)."""
    from core.api import pagination

    client = client_for(metrics.alice)
    plain = [client.get(f"/api/v1/metrics/?limit=3&offset={o}{query}").json() for o in range(0, 14, 2)]
    monkeypatch.setattr(pagination, "DEFERRED_OFFSET", 2)
    deferred = [client.get(f"/api/v1/metrics/?limit=3&offset={o}{query}").json() for o in range(0, 14, 2)]
    assert deferred == plain
    assert any(page["results"] for page in plain[1:])
