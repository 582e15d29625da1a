"""Redis killed, frozen or restarted with its data: no reader is ever answered with unpublished content.

Each test runs a real ``redis-server`` of its own (on a free port, with its
data in the test's temporary directory), caches the pages and the API
answer, makes Redis misbehave, unpublishes or corrects the issue while it
does, brings Redis back, and reads everything again. The publication
version lives in the database (issues/page_cache.py), so entries Redis kept
or brought back belong to a version no request asks for any more.
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis

from curation.cache import ResilientRedisCache
from issues import page_cache
from issues.editing import save_issue
from issues.models import Issue
from issues.publishing import unpublish_issue
from tests.conftest import make_issue, make_publisher

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not shutil.which("redis-server"), reason="needs redis-server (apt-get install redis-server)"
    ),
]

# How long a cache call may wait for Redis in these tests, and how long the cache is then skipped.
TIMEOUT = 0.5
SKIP_FOR = 0.5
PAGES = ("/", "/issues/cached/", "/feeds/atom.xml", "/api/v1/issues/cached/")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server process this test starts, stops, freezes and restarts with its data."""

    def __init__(self, directory):
        self.port = free_port()
        self.directory = directory
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        return redis.Redis(port=self.port, socket_timeout=2)

    def start(self):
        # Append-only file, synced on every write: what a killed Redis had comes back on restart.
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
            + ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self):
        self.process.kill()
        self.process.wait()

    def shut_down(self):
        """A clean restart's first half: Redis writes its data and exits."""
        try:
            self.client().shutdown(save=True)
        except redis.ConnectionError:
            pass  # the connection closes as Redis exits
        self.process.wait(timeout=10)

    def freeze(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def keys(self):
        return self.client().dbsize()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.thaw()
            self.process.kill()
            self.process.wait()


@pytest.fixture
def redis_server(tmp_path, settings, monkeypatch):
    server = RedisServer(tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "curation.cache.ResilientRedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "test",
            "OPTIONS": {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT},
        }
    }
    monkeypatch.setattr(ResilientRedisCache, "skip_for", SKIP_FOR, raising=False)
    ResilientRedisCache.reset()
    yield server
    server.stop()
    ResilientRedisCache.reset()


@pytest.fixture
def issue():
    older = make_issue(slug="older", picks=1, status="published")
    issue = make_issue(slug="cached", picks=2, status="published", intro="First words.")
    Issue.objects.filter(pk=older.pk).update(published_at=issue.published_at.replace(year=2000))
    return issue


def read_everything_twice(client):
    """(url, status, body) of every page, twice: the second read of each is a hit when Redis is up."""
    return [
        (url, response.status_code, response.content.decode())
        for url in PAGES
        for response in (client.get(url), client.get(url))
    ]


def unpublish(issue):
    unpublish_issue(issue, by=make_publisher())


def correct(issue):
    issue.refresh_from_db()
    save_issue(
        issue, by=make_publisher(), data={"intro": "Corrected words."}, lock_version=issue.lock_version
    )


def assert_readers_see_the_change(client, change):
    for url, status, body in read_everything_twice(client):
        if change is correct:
            assert status == 200, url
            assert "Corrected words." in body and "First words." not in body, url
        elif url in ("/issues/cached/", "/api/v1/issues/cached/"):
            assert status == 404, url
        else:
            assert status == 200 and "/issues/cached/" not in body, url


def fail(outage, server):
    if outage == "killed":
        server.kill()
    elif outage == "frozen":
        server.freeze()
    else:
        server.shut_down()


def bring_back(outage, server):
    if outage == "frozen":
        server.thaw()
    else:
        server.start()
    # Past the window in which a process skips a cache that failed it.
    time.sleep(SKIP_FOR + 0.1)


@pytest.mark.parametrize("change", [unpublish, correct], ids=["unpublish", "correction"])
@pytest.mark.parametrize("outage", ["killed", "frozen", "restarted"])
def test_a_change_made_while_redis_is_away_shows_once_it_is_back(
    client, redis_server, issue, outage, change, django_assert_num_queries
):
    for url, status, _ in read_everything_twice(client):
        assert status == 200, url
    assert redis_server.keys() > 0

    fail(outage, redis_server)
    change(issue)
    # While Redis is away the pages are read from the database: already right.
    assert_readers_see_the_change(client, change)

    bring_back(outage, redis_server)
    # The entries cached before the change are still there (or came back with Redis), and a
    # worker that starts now has no copies of its own: everything it serves comes from Redis.
    assert redis_server.keys() > 0
    page_cache.forget_local_copies()
    assert_readers_see_the_change(client, change)
    # And Redis serves again: a hit whose only query is the version.
    client.get("/issues/older/")
    page_cache.forget_local_copies()
    with django_assert_num_queries(1):
        assert client.get("/issues/older/").status_code == 200


def test_a_frozen_redis_costs_one_timeout_then_is_skipped(client, redis_server, issue):
    for url in PAGES:
        client.get(url)
    redis_server.freeze()
    # A worker with no copies of its own: every request asks Redis, or would.
    page_cache.forget_local_copies()
    started = time.monotonic()
    for _ in range(5):
        for url in PAGES:
            assert client.get(url).status_code == 200
    elapsed = time.monotonic() - started
    # Twenty requests, each with a cache read and a write: 40 timeouts (20 s) if each waited.
    # One timeout, then twenty renderings from the database.
    assert elapsed < TIMEOUT + 3, elapsed
