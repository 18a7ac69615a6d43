"""The shared cache (``LEDGER_CACHE_URL``): Django's Redis backend, but a Redis that is down or hung
is a cache miss, never an error. Everything LEDger caches is computed again when missing (insights
frames and tables, the API throttle's counters), so a page or an upload must not fail because the
cache did: it is only slower (and the throttle lets requests through) until Redis is back. After a
failure the process does not ask Redis again for ``DOWN_S`` seconds, so a hung one costs a request
one socket timeout, not one per cache call. ``/readyz`` reports it (``ping``)."""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)


def is_shared() -> bool:
    """Is the cache one every process reads (``LEDGER_CACHE_URL``), not each process's own memory?"""
    from django.conf import settings

    return "locmem" not in settings.CACHES["default"]["BACKEND"].lower()

DOWN_S = 5.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class TolerantRedisCache(RedisCache):
    _down_until = 0.0

    def _call(self, fallback, method, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return method(*args, **kwargs)
        except UNREACHABLE as exc:
            self._down_until = time.monotonic() + DOWN_S
            log.warning("cache %s unreachable (%s: %s); served without it for %g s", ",".join(self._servers),
                        type(exc).__name__, exc, DOWN_S)
            return fallback

    def get(self, key, default=None, version=None):
        return self._call(default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._call({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call(False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(None, super().set, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(list(data), super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._call(False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._call(None, super().delete_many, keys, version)

    def ping(self) -> None:
        """Raises when Redis does not answer (for /readyz; bypasses the tolerance)."""
        self._cache.get_client(write=True).ping()
        self._down_until = 0.0
