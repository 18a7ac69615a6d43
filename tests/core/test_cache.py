"""The shared cache down: a miss, never an error (core.cache.TolerantRedisCache), and /readyz says so."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core import cache as tolerant

NOBODY = "redis://127.0.0.1:9797/0"  # nothing listens there (the test servers' port range)


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {"default": {"BACKEND": "core.cache.TolerantRedisCache", "LOCATION": NOBODY,
                                   "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


def test_a_cache_that_is_down_is_a_miss_and_is_not_asked_again_at_once(redis_down, monkeypatch):
    assert cache.get("k", "default") == "default"
    assert cache.set("k", 1) is None and cache.add("k", 1) is False and cache.get_many(["k"]) == {}
    assert cache.delete("k") is False and cache.has_key("k") is False
    calls = []
    monkeypatch.setattr(type(cache._cache), "get", lambda *a: calls.append(a))
    assert cache.get("k") is None and calls == []  # within DOWN_S: Redis is not asked (no socket timeout paid)
    monkeypatch.setattr(tolerant, "DOWN_S", 0.0)
    cache._down_until = 0.0
    cache.get("k")
    assert len(calls) == 1  # asked again once the pause is over
    with pytest.raises(Exception, match="Connection|connect"):
        cache.ping()  # /readyz asks it directly


def test_pages_and_uploads_work_with_the_cache_down(redis_down, client, demo, data_dir,
                                                    django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(demo["user"])
    assert client.get("/").status_code == 200
    assert client.get("/insights/drivers/").status_code == 200
    pixel = demo["devices"]["QD-in-matrix LED, stack A"].pixels.get(name="A")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/measurements/", {
            "file": SimpleUploadedFile("jlv_sweep.csv", (data_dir / "public" / "jlv_sweep.csv").read_bytes()),
            "sample": pixel.label})
    assert response.status_code == 201, response.content
    body = client.get("/readyz").json()
    assert not body["checks"]["cache"]["ok"] and "Connection" in body["checks"]["cache"]["detail"]
