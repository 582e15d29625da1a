"""Redis down: the cache misses quietly, pages and the API still serve, readiness says why."""

import logging
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import TimeoutError as RedisTimeoutError

from curation.cache import ResilientRedisCache


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unreachable_cache_settings():
    return {
        "default": {
            "BACKEND": "curation.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/15",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_down(settings):
    settings.CACHES = unreachable_cache_settings()
    ResilientRedisCache.reset()
    yield
    ResilientRedisCache.reset()


class Clock:
    """time.monotonic() for curation/cache.py, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def attempts(redis_down, monkeypatch):
    """Every call that reaches Redis, which fails each one; and the cache module's clock."""
    calls = []

    def failing_get(self, key, default=None, version=None):
        calls.append(key)
        raise RedisTimeoutError("Timeout reading from socket")

    clock = Clock()
    monkeypatch.setattr(RedisCache, "get", failing_get)
    monkeypatch.setattr("curation.cache.time.monotonic", clock)
    return calls, clock


def test_a_redis_that_failed_is_skipped_for_a_while_then_asked_again(attempts):
    calls, clock = attempts
    for _ in range(50):
        assert cache.get("page") is None
    # One call waited for Redis (one timeout); the other 49 were misses at once.
    assert len(calls) == 1
    clock.now += ResilientRedisCache.skip_for - 0.1
    assert cache.get("page") is None and len(calls) == 1
    clock.now += 0.2
    assert cache.get("page") is None and len(calls) == 2
    # Failed again: skipped again.
    assert cache.get("page") is None and len(calls) == 2


def test_skipping_is_per_process_not_per_thread(attempts):
    calls, _ = attempts
    cache.get("page")
    # Django gives each thread its own cache object; they share what the process learned.
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda _: caches["default"].get("page", "miss"), range(8))) == ["miss"] * 8
    assert len(calls) == 1


def test_readiness_asks_redis_even_while_the_cache_skips_it(client, attempts, db):
    cache.get("page")
    assert caches["default"].skipping()
    assert client.get("/readyz").json()["checks"]["cache"].startswith("unavailable: ")


def test_every_cache_call_behaves_like_a_miss(redis_down, caplog):
    with caplog.at_level(logging.ERROR, logger="curation.cache"):
        assert cache.get("k", "fallback") == "fallback"
        assert cache.set("k", "v") is None
        assert cache.add("k", "v") is False
        assert cache.get_many(["a", "b"]) == {}
        assert cache.has_key("k") is False
        assert cache.delete("k") is False
        assert cache.incr("counter") == 0
        assert cache.get_or_set("k", lambda: "computed") == "computed"
        cache.set_many({"a": 1})
        cache.delete_many(["a"])
        cache.clear()
    # Logged, but once per outage window, not once per call.
    errors = [r for r in caplog.records if r.name == "curation.cache"]
    assert len(errors) == 1
    assert "cache unavailable" in errors[0].getMessage()


@pytest.mark.django_db
def test_public_pages_serve_with_redis_down(client, redis_down):
    from tests.conftest import make_issue

    issue = make_issue("march-2021", picks=2, status="published")
    for url in ("/", issue.get_absolute_url(), "/api/v1/issues/", f"/api/v1/issues/{issue.slug}/"):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_readiness_names_the_cache_when_redis_is_down(client, redis_down):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("unavailable: ")


@pytest.mark.broker
def test_the_real_redis_round_trips(settings):
    # Same backend as production, on this machine's Redis.
    assert settings.CACHES["default"]["BACKEND"] == "curation.cache.ResilientRedisCache"
    cache.set("answer", {"value": 42}, 30)
    assert cache.get("answer") == {"value": 42}
    assert cache.add("answer", 0) is False
    cache.set("n", 1)
    assert cache.incr("n", 2) == 3
    cache.ping()


def test_enqueueing_with_the_broker_down_fails_fast_and_clearly(tmp_path):
    """A web process whose broker is away: the action reports it instead of hanging."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='curation.settings'; django.setup()\n"
        "from curation.queue import QueueUnavailable, enqueue\n"
        "from curation.celery import ping\n"
        "try:\n"
        "    enqueue(ping, 'x')\n"
        "except QueueUnavailable as error:\n"
        "    print('REFUSED:', error)\n"
    )
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        SECRET_KEY="x",
        VAR_DIR=str(tmp_path),
        CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0",
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/1",
        LOG_FORMAT="text",
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "REFUSED: The task queue is not reachable right now, so nothing was started." in result.stdout
    assert time.monotonic() - started < 15
