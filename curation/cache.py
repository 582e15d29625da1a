"""A Redis cache that degrades instead of failing.

The cache only makes pages faster; with Redis down (restarting, out of
memory, a network blip) every cache call behaves like a miss and the error is
logged, so the public pages and the API keep serving from the database.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Log the outage once every this many seconds per process, not once per call.
LOG_EVERY = 30.0


class ResilientRedisCache(RedisCache):
    _last_logged = 0.0

    def _failed(self, operation, error):
        now = time.monotonic()
        if now - ResilientRedisCache._last_logged >= LOG_EVERY:
            ResilientRedisCache._last_logged = now
            log.error("cache unavailable, serving without it (%s failed: %s)", operation, error)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version=version)
        except RedisError as error:
            self._failed("add", error)
            return False

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version=version)
        except RedisError as error:
            self._failed("get", error)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version=version)
        except RedisError as error:
            self._failed("set", error)
            return None

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version=version)
        except RedisError as error:
            self._failed("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version=version)
        except RedisError as error:
            self._failed("delete", error)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version=version)
        except RedisError as error:
            self._failed("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version=version)
        except RedisError as error:
            self._failed("has_key", error)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version=version)
        except RedisError as error:
            # A counter we cannot read counts as nothing (login lockout fails open).
            self._failed("incr", error)
            return 0

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version=version)
        except RedisError as error:
            self._failed("set_many", error)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version=version)
        except RedisError as error:
            self._failed("delete_many", error)
            return None

    def clear(self):
        try:
            return super().clear()
        except RedisError as error:
            self._failed("clear", error)
            return False

    def ping(self):
        """Raise if Redis does not answer (readiness checks use this; nothing else should)."""
        self._cache.get_client(write=True).ping()
