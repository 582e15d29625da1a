"""A Redis cache that degrades instead of failing, and stops asking a Redis that failed.

The cache only makes pages faster; with Redis down (restarting, out of
memory, a network blip) or frozen (a stuck process: connections open, no
answers) every cache call behaves like a miss and the error is logged, so
the public pages and the API keep serving from the database.

A Redis that stops answering costs one socket timeout (``REDIS_TIMEOUT``).
After any failed call the process leaves Redis alone for ``skip_for``
seconds: every call in that window is a miss at once, so a burst of
requests against a frozen Redis waits for one timeout, not one per call.
Then the next call tries Redis again.
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
    # Seconds a process skips Redis after a call failed.
    skip_for = 5.0
    # Per process (Django makes one cache object per thread): Redis location → when to try again.
    _skip_until = {}
    _last_logged = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = ",".join(self._servers)

    @classmethod
    def reset(cls):
        """Forget past failures (tests)."""
        cls._skip_until.clear()
        cls._last_logged = 0.0

    def skipping(self):
        """True while this process leaves Redis alone after a failure."""
        return time.monotonic() < self._skip_until.get(self._location, 0.0)

    def _failed(self, operation, error):
        now = time.monotonic()
        ResilientRedisCache._skip_until[self._location] = now + self.skip_for
        if now - ResilientRedisCache._last_logged >= LOG_EVERY:
            ResilientRedisCache._last_logged = now
            log.error(
                "cache unavailable, serving without it for %.0f s (%s failed: %s)",
                self.skip_for,
                operation,
                error,
            )

    def _call(self, operation, miss, *args, **kwargs):
        """RedisCache's ``operation``, or ``miss`` when Redis fails or is being skipped."""
        if self.skipping():
            return miss
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except RedisError as error:
            self._failed(operation, error)
            return miss

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version=version)

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version=version)

    def incr(self, key, delta=1, version=None):
        # A counter we cannot read counts as nothing (login lockout fails open).
        return self._call("incr", 0, key, delta, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version=version)

    def clear(self):
        return self._call("clear", False)

    def ping(self):
        """Raise if Redis does not answer (readiness checks use this; nothing else should).

        Asks Redis even while skipping it: readiness reports what Redis does now."""
        self._cache.get_client(write=True).ping()
