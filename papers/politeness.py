"""One request to arXiv at a time, and at most one every ARXIV_REQUEST_INTERVAL seconds.

arXiv asks for one request every 3 s over one connection. However many Celery
workers run, they share one limiter in Redis (REDIS_URL, else the broker's
Redis); the embedded mode (no Redis) uses an in-process one. A caller takes a
slot with ``with limiter.slot(): …``: the slot is granted once nobody else
holds it *and* the interval since the previous slot *ended* has passed. Like
the ``arxiv`` package's own client, we count the interval from the end of a
request: then no two requests can reach arXiv closer than the interval, however
long a connection takes to set up.
"""

import threading
import time
import uuid
from contextlib import contextmanager

import redis
from django.conf import settings

# How long a slot may be held before others may assume its holder died: longer
# than any live request, which ends by ARXIV_REQUEST_DEADLINE (papers/arxiv_api.py).
SLOT_TTL_MARGIN_SECONDS = 30


def slot_ttl_seconds():
    return float(getattr(settings, "ARXIV_REQUEST_DEADLINE", 90.0)) + SLOT_TTL_MARGIN_SECONDS


class LocalLimiter:
    """Process-wide limiter for the embedded mode (threads share it)."""

    def __init__(self, interval):
        self.interval = float(interval)
        self._lock = threading.Lock()
        self._next = 0.0

    @contextmanager
    def slot(self):
        with self._lock:
            wait = self._next - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                yield
            finally:
                self._next = time.monotonic() + self.interval


# KEYS[1] = holder key, KEYS[2] = next-allowed key (ms since epoch, server clock).
# Grants the slot (returns 0) or says how many ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 1 then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = 50 end
  return math.min(ttl, 50)
end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < nxt then
  return nxt - now
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], now + tonumber(ARGV[2]), 'PX', tonumber(ARGV[2]) + 60000)
return 0
"""

# KEYS as above; ARGV[1] = token, ARGV[2] = interval ms. The next slot opens an interval after this one ends.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('SET', KEYS[2], now + tonumber(ARGV[2]), 'PX', tonumber(ARGV[2]) + 60000)
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLimiter:
    """Deployment-wide limiter: one slot holder at a time, spaced by the interval (Redis clock)."""

    def __init__(self, url, interval, key="curation:arxiv-limiter"):
        self.interval = float(interval)
        self.client = redis.Redis.from_url(url)
        self.keys = [f"{key}:holder", f"{key}:next"]
        self._acquire = self.client.register_script(_ACQUIRE)
        self._release = self.client.register_script(_RELEASE)

    @contextmanager
    def slot(self):
        token = uuid.uuid4().hex
        interval_ms = int(self.interval * 1000)
        while True:
            wait_ms = int(
                self._acquire(keys=self.keys, args=[token, interval_ms, int(slot_ttl_seconds() * 1000)])
            )
            if wait_ms <= 0:
                break
            time.sleep(min(wait_ms, 1000) / 1000)
        try:
            yield
        finally:
            self._release(keys=self.keys, args=[token, interval_ms])


_limiters = {}
_limiters_lock = threading.Lock()


def get_limiter():
    """The limiter for this deployment, per the current settings."""
    interval = float(getattr(settings, "ARXIV_REQUEST_INTERVAL", 3.0))
    url = settings.REDIS_URL or settings.CELERY_BROKER_URL
    if url and not url.startswith("redis"):
        url = ""
    key = (url, interval)
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = RedisLimiter(url, interval) if url else LocalLimiter(interval)
        return _limiters[key]
