"""Login brute-force protection: lock an account, or an address, after repeated failures.

Every password login, whatever its path (the admin form, ``authenticate()``
anywhere), goes through ``LockoutBackend``. At
``LOGIN_FAILURE_LIMIT_PER_ACCOUNT`` failures for a username, or
``LOGIN_FAILURE_LIMIT_PER_ADDRESS`` from one client address, within
``LOGIN_FAILURE_WINDOW`` seconds, logins are refused until the window that
began with the first failure ends — even with the right password, so
guessing cannot go on. A successful login clears the account's count.

Each attempt takes its place in the counts *before* the password is checked
(an atomic INCR, curation/limits.py) and gives it back if the password was
right. So a burst of simultaneous guesses gets at most the limit of real
password checks: counting failures after the check, as Django signals allow
(and django-axes does), lets every guess already in flight through — 10 of
a burst of 40 instead of 5. django-axes also has one limit for all its
lockout parameters, where we promise 5 per account and 20 per address.

Accounts are counted by the username exactly as typed: usernames are
case-sensitive, so five failures on "Curator2" must not lock "curator2"
(and "EDNA" is not a way into edna's account). Addresses come from
``curation.limits.client_address`` (``TRUSTED_PROXY_COUNT``), the same
identity the API throttles use.

Counters live in the cache (Redis in production, shared by every web
process). If Redis is down the counters read as zero: logins still work,
unthrottled, and the outage is logged.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError

from .limits import client_address, count_in_window, uncount

log = logging.getLogger(__name__)


def _key(kind, value):
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _subjects(request, username):
    """(kind, counter key, limit) for each thing a login attempt counts against."""
    subjects = []
    if username:
        subjects.append(("account", _key("account", username), settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT))
    address = client_address(request)
    if address:
        subjects.append(("address", _key("address", address), settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS))
    return subjects


def _lock_message(kind, key):
    until = cache.get(key + ":until") or time.time() + settings.LOGIN_FAILURE_WINDOW
    minutes = max(1, math.ceil((until - time.time()) / 60))
    who = "this account" if kind == "account" else "your network address"
    return (
        f"Too many failed sign-in attempts for {who}. Signing in is locked for "
        f"{minutes} more minute{'s' if minutes != 1 else ''}; try again later or ask an "
        "administrator to reset your password."
    )


def _take_place(request, username):
    """Count this attempt against its account and address; the lock message if either is over its limit.

    The counts are atomic, so of simultaneous attempts exactly the first
    ``limit`` get a place and the others are refused unchecked.
    """
    window = settings.LOGIN_FAILURE_WINDOW
    taken, refusal = [], ""
    for kind, key, limit in _subjects(request, username):
        count = count_in_window(key, window)
        if count == 1:
            # When the window ends, for the message's "N more minutes".
            cache.set(key + ":until", time.time() + window, window)
        if count == limit + 1:
            log.warning("login locked: %s after %d failures", kind, limit, extra={"subject": kind})
        if count > limit and not refusal:
            refusal = _lock_message(kind, key)
        taken.append((kind, key))
    return taken, refusal


def _give_back(taken):
    """A successful login: the account starts afresh, the address's count loses this attempt."""
    for kind, key in taken:
        if kind == "account":
            cache.delete(key)
        else:
            uncount(key)


class LockoutBackend(ModelBackend):
    """First in AUTHENTICATION_BACKENDS: every username-and-password login is checked here, once.

    A refused attempt — locked out, or a wrong password — raises
    PermissionDenied, which stops Django from trying the next backend: the
    password is checked at most once per attempt, and no login path (admin,
    API, a future form) can bypass the lock. ModelBackend stays second in the
    list only so that sessions that name it keep working.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        taken, refusal = _take_place(request, username)
        if refusal:
            if request is not None:
                request.login_refusal = refusal  # for the admin form's message
            raise PermissionDenied("locked out")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            raise PermissionDenied("wrong username or password")
        _give_back(taken)
        return user


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, saying plainly that the account is locked."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            refusal = getattr(self.request, "login_refusal", "")
            if refusal:
                raise ValidationError(refusal, code="locked_out") from None
            raise
