"""Admin login brute force: throttled per account and per address, with a clear message."""

import time

import pytest

from curation import lockout

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
    # Case does not dodge the lock.
    assert not signed_in(attempt(client, "EDNA", PASSWORD, address="198.51.100.1"))


@pytest.mark.django_db
def test_the_lock_ends_with_the_window(client, editor, settings, monkeypatch):
    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 3
    for _ in range(3):
        attempt(client, "edna", "wrong-guess")
    assert not signed_in(attempt(client, "edna", PASSWORD))
    later = time.time() + settings.LOGIN_FAILURE_WINDOW + 1
    monkeypatch.setattr(lockout.time, "time", lambda: later)
    assert signed_in(attempt(client, "edna", PASSWORD))


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
    from django.contrib.auth import authenticate

    settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT = 2
    request = rf.post("/", REMOTE_ADDR="203.0.113.9")
    assert authenticate(request, username="edna", password="nope") is None
    assert authenticate(request, username="edna", password="nope") is None
    assert authenticate(request, username="edna", password=PASSWORD) is None


def test_the_client_address_trusts_only_the_configured_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4")
    settings.TRUSTED_PROXY_COUNT = 0
    assert lockout.client_address(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    # The client can forge the left part of the header, not what our proxy appended.
    assert lockout.client_address(request) == "198.51.100.4"
