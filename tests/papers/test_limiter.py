"""The politeness limiter: request starts at least the interval apart, however many workers."""

import multiprocessing
import threading
import time
import uuid

import pytest
import requests
from django.conf import settings

from papers.politeness import LocalLimiter, RedisLimiter, get_limiter

INTERVAL = 0.5
# Arrival times are taken at the server's clock; allow for its timer resolution.
JITTER = 0.002


def _gaps(server):
    times = sorted(t for t, _ in server.requests)
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def _worker(redis_url, key, url, count):
    limiter = RedisLimiter(redis_url, INTERVAL, key=key)
    for _ in range(count):
        with limiter.slot():
            requests.get(url, params={"search_query": "cat:cs.LG"}, timeout=10)


@pytest.mark.broker
def test_two_worker_processes_share_the_redis_limiter(fake_arxiv):
    key = f"test-limiter-{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_worker, args=(settings.REDIS_URL, key, fake_arxiv.url, 3)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0

    assert len(fake_arxiv.requests) == 6
    assert min(_gaps(fake_arxiv)) >= INTERVAL - JITTER


def test_the_in_process_limiter_spaces_threads(fake_arxiv):
    limiter = LocalLimiter(0.2)

    def worker():
        for _ in range(2):
            with limiter.slot():
                requests.get(fake_arxiv.url, params={"search_query": "cat:cs.LG"}, timeout=10)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(fake_arxiv.requests) == 6
    assert min(_gaps(fake_arxiv)) >= 0.2 - JITTER
    assert time.monotonic() - started >= 5 * 0.2


def test_the_deployment_limiter_follows_the_settings(settings):
    settings.ARXIV_REQUEST_INTERVAL = 0.7
    limiter = get_limiter()
    assert limiter.interval == 0.7
    expected = RedisLimiter if (settings.REDIS_URL or settings.CELERY_BROKER_URL) else LocalLimiter
    assert isinstance(limiter, expected)
