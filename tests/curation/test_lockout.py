"""Admin login brute force: throttled per account and per address, with a clear message.

The counters are the cache's: the real Redis with REDIS_URL set (CI), the
local-memory cache on the embedded default.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import RequestFactory

from curation.cache import ResilientRedisCache
from tests.curation.test_cache import unreachable_cache_settings

LOGIN = "/admin/login/"
PASSWORD = "pw-1234567890"  # the personas' password (tests/conftest.py)


def attempt(client, username, password, address="203.0.113.7"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def signed_in(response):
    return response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.django_db
def test_an_account_is_locked_after_repeated_failures_even_with_the_right_password(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 5
    for _ in range(5):
        response = attempt(client, "edna", "wrong-guess")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()

    response = attempt(client, "edna", PASSWORD)
    assert not signed_in(response)
    page = response.content.decode()
    assert "Too many failed sign-in attempts for this account" in page
    assert "15 more minutes" in page
    # From another address too: the account is locked, not the address.
    assert not signed_in(attempt(client, "edna", PASSWORD, address="198.51.100.1"))


@pytest.mark.django_db
def test_the_lock_ends_with_the_window(client, editor, settings):
    # A fast hasher, so that the attempts take far less than the short window on a busy machine.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    editor.set_password(PASSWORD)
    editor.save()
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 3
    settings.LOGIN_FAILURE_WINDOW = 3
    first_failure = time.monotonic()
    for _ in range(3):
        attempt(client, "edna", "wrong-guess")
    assert not signed_in(attempt(client, "edna", PASSWORD))
    assert time.monotonic() - first_failure < 3, "too slow to test the window"
    # The window began with the first failure; Redis expires the counter itself.
    time.sleep(max(0, first_failure + 3.2 - time.monotonic()))
    assert signed_in(attempt(client, "edna", PASSWORD))


@pytest.mark.django_db
def test_failures_on_one_spelling_do_not_lock_another_account(client, django_user_model, settings):
    """Usernames are case-sensitive, so the lock is too: "Curator2" is not "curator2"."""
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 5
    django_user_model.objects.create_user("Curator2", password=PASSWORD, is_staff=True)
    django_user_model.objects.create_user("curator2", password=PASSWORD, is_staff=True)
    for _ in range(5):
        attempt(client, "Curator2", "wrong-guess", address="198.51.100.20")
    assert signed_in(attempt(client, "curator2", PASSWORD, address="198.51.100.21"))
    client.logout()
    assert not signed_in(attempt(client, "Curator2", PASSWORD, address="198.51.100.22"))


@pytest.mark.django_db
def test_other_accounts_are_not_locked_by_someone_elses_failures(client, editor, curator, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 3
    for _ in range(3):
        attempt(client, "edna", "wrong-guess", address="198.51.100.1")
    assert signed_in(attempt(client, "carl", PASSWORD, address="198.51.100.2"))


@pytest.mark.django_db
def test_an_address_guessing_many_accounts_is_locked(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 100
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 6
    for n in range(6):
        attempt(client, f"someone-{n}", "guess", address="192.0.2.66")
    response = attempt(client, "edna", PASSWORD, address="192.0.2.66")
    assert not signed_in(response)
    assert "Too many failed sign-in attempts for your network address" in response.content.decode()
    # The same account from another address signs in.
    assert signed_in(attempt(client, "edna", PASSWORD, address="192.0.2.67"))


@pytest.mark.django_db
def test_a_successful_login_clears_the_account_count(client, editor, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 3
    attempt(client, "edna", "wrong-guess")
    attempt(client, "edna", "wrong-guess")
    assert signed_in(attempt(client, "edna", PASSWORD))
    client.logout()
    attempt(client, "edna", "wrong-guess")
    attempt(client, "edna", "wrong-guess")
    assert signed_in(attempt(client, "edna", PASSWORD))


@pytest.mark.django_db
def test_every_login_path_is_locked_not_only_the_admin_form(rf, editor, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 2
    request = rf.post("/", REMOTE_ADDR="203.0.113.9")
    assert authenticate(request, username="edna", password="nope") is None
    assert authenticate(request, username="edna", password="nope") is None
    assert authenticate(request, username="edna", password=PASSWORD) is None


@pytest.mark.django_db
def test_behind_the_proxy_failures_count_against_each_client_not_the_proxy(client, editor, settings):
    """Twenty failures from twenty readers behind our proxy must not lock the editor out."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
    for n in range(25):
        client.post(
            LOGIN,
            {"username": f"someone-{n}", "password": "guess"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}",
        )
    response = client.post(
        LOGIN,
        {"username": "edna", "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )
    assert signed_in(response)


@pytest.mark.django_db
def test_one_client_behind_the_proxy_is_locked_whatever_it_forges(client, editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 100
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 4
    for n in range(4):
        client.post(
            LOGIN,
            {"username": f"someone-{n}", "password": "guess"},
            REMOTE_ADDR="10.0.0.2",
            # The client forges the left part; our proxy appends the address it saw.
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n + 1}, 198.51.100.66",
        )
    response = client.post(
        LOGIN,
        {"username": "edna", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.66",
    )
    assert "Too many failed sign-in attempts for your network address" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_wrong_passwords_gets_only_the_limit_of_real_checks(editor, settings, monkeypatch):
    """40 simultaneous guesses for one account: at most LOGIN_FAILURE_LIMIT_PER_ACCOUNT reach the hasher."""
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 5
    checks = []
    real_check = ModelBackend.authenticate

    def counted(self, request, username=None, password=None, **kwargs):
        checks.append(username)
        return real_check(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counted)
    start = threading.Barrier(40)
    factory = RequestFactory()

    def guess(n):
        request = factory.post(LOGIN, REMOTE_ADDR=f"198.51.100.{n + 1}")
        start.wait(timeout=10)
        try:
            return authenticate(request, username="edna", password=f"guess-{n}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(guess, range(40)))
    assert results == [None] * 40
    assert len(checks) == 5


@pytest.mark.django_db
def test_with_redis_down_logins_work_unthrottled_and_say_so(client, editor, settings, caplog):
    settings.CACHES = unreachable_cache_settings()
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 2
    ResilientRedisCache._last_logged = 0.0
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            attempt(client, "edna", "wrong-guess")
        assert signed_in(attempt(client, "edna", PASSWORD))
    ResilientRedisCache._last_logged = 0.0
    assert any("cache unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_a_refused_next_address_sends_the_editor_to_the_admin_index(client, editor):
    response = client.post(
        LOGIN + "?next=https://evil.example/steal",
        {"username": "edna", "password": PASSWORD, "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
