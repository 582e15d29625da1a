"""API rate limits: one client identity (the trusted proxy count) and counters that hold under concurrency.

With REDIS_URL set (CI) the counters are the real Redis's; on the embedded
default they are the local-memory cache's, which is per process.
"""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from curation import limits
from curation.api_limits import AnonThrottle, UserThrottle
from tests.conftest import make_issue

PROXY = "10.0.0.2"


@pytest.fixture
def rates(settings):
    def set_rates(anon, user="1000/minute"):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user},
        }

    return set_rates


@pytest.fixture
def published(db):
    return make_issue("march-2021", picks=1, status="published")


def forged():
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


def test_a_forged_x_forwarded_for_does_not_dodge_the_anonymous_limit(client, published, rates, settings):
    rates("3/minute")
    settings.TRUSTED_PROXY_COUNT = 0
    answers = [
        client.get("/api/v1/issues/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=forged()).status_code
        for _ in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]


def test_behind_one_proxy_each_client_is_the_address_the_proxy_appended(client, published, rates, settings):
    rates("2/minute")
    settings.TRUSTED_PROXY_COUNT = 1

    def get(client_address):
        # What the client sends (forged) and what our proxy appends (the address it saw).
        header = f"{forged()}, {client_address}"
        return client.get("/api/v1/issues/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=header).status_code

    assert [get("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    # Another reader behind the same proxy has a limit of its own.
    assert get("198.51.100.2") == 200


def test_client_address_reads_the_nth_address_from_the_right(rf, settings):
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.1, 198.51.100.4")
    settings.TRUSTED_PROXY_COUNT = 0
    assert limits.client_address(request) == PROXY
    settings.TRUSTED_PROXY_COUNT = 1
    assert limits.client_address(request) == "198.51.100.4"
    settings.TRUSTED_PROXY_COUNT = 2
    assert limits.client_address(request) == "203.0.113.1"
    # Fewer addresses than proxies: the request did not come through them all; the
    # nearest peer is the only address nobody could forge.
    settings.TRUSTED_PROXY_COUNT = 5
    assert limits.client_address(request) == PROXY
    bare = rf.get("/", REMOTE_ADDR=PROXY)
    assert limits.client_address(bare) == PROXY


def run_concurrently(calls, workers=64):
    """Call each function of ``calls`` from a pool of ``workers`` threads, released together."""
    start = threading.Barrier(min(workers, len(calls)))

    def call(function):
        try:
            start.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        return function()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, calls))


def test_concurrent_anonymous_requests_never_pass_the_limit(rates):
    rates("25/minute")
    factory = RequestFactory()

    def one_request():
        request = Request(factory.get("/api/v1/issues/", REMOTE_ADDR="198.51.100.77"))
        return AnonThrottle().allow_request(request, None)

    allowed = run_concurrently([one_request] * 400)
    assert allowed.count(True) == 25


def test_concurrent_signed_in_requests_never_pass_their_limit(rates, django_user_model, db):
    rates("1/minute", user="30/minute")
    user = django_user_model(pk=424242, username="bot")
    factory = RequestFactory()

    def one_request():
        request = Request(factory.get("/api/v1/issues/"))
        request.user = user
        return UserThrottle().allow_request(request, None)

    allowed = run_concurrently([one_request] * 300)
    assert allowed.count(True) == 30


def test_the_rate_is_a_rolling_window(rates, monkeypatch):
    """No burst at a window boundary: within any stretch of the duration, at most the rate."""
    rates("10/minute")
    now = [1_000_000.0]
    monkeypatch.setattr(limits.time, "time", lambda: now[0])
    throttle_request = Request(RequestFactory().get("/", REMOTE_ADDR="198.51.100.5"))

    def allowed():
        throttle = AnonThrottle()
        return throttle.allow_request(throttle_request, None), throttle.wait()

    for _ in range(10):
        now[0] += 5.0  # one every 5 s: 10 within the first 50 s
        assert allowed()[0]
    now[0] += 5.0  # 55 s in: the first request is still within the last minute
    ok, wait = allowed()
    assert not ok
    assert 0 < wait <= 61
    now[0] += wait
    assert allowed()[0]
