"""Login brute-force protection: lock an account, or an address, after repeated failures.

Every failed login (``user_login_failed``, whatever the login path) counts
against the username and against the client address. At
``LOGIN_FAILURE_LIMIT_PER_ACCOUNT`` failures for a username, or
``LOGIN_FAILURE_LIMIT_PER_ADDRESS`` from one address, within
``LOGIN_FAILURE_WINDOW`` seconds, logins are refused until the window that
began with the first failure ends — even with the right password, so
guessing cannot go on. A successful login clears the account's count.

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
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.dispatch import receiver

log = logging.getLogger(__name__)


def client_address(request):
    """The client's address, trusting only ``TRUSTED_PROXY_COUNT`` proxies' X-Forwarded-For."""
    if request is None:
        return ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _key(kind, value):
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _subjects(request, username):
    subjects = []
    if username:
        subjects.append(("account", username.strip().casefold(), settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT))
    address = client_address(request)
    if address:
        subjects.append(("address", address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS))
    return subjects


def locked_out(request, username):
    """Why logins for ``username`` from this request are refused right now, or "" if they are not."""
    for kind, value, limit in _subjects(request, username):
        state = cache.get(_key(kind, value))
        if state and state.get("count", 0) >= limit and state["until"] > time.time():
            minutes = max(1, math.ceil((state["until"] - time.time()) / 60))
            who = "this account" if kind == "account" else "your network address"
            return (
                f"Too many failed sign-in attempts for {who}. Signing in is locked for "
                f"{minutes} more minute{'s' if minutes != 1 else ''}; try again later or ask an "
                "administrator to reset your password."
            )
    return ""


def record_failure(request, username):
    """Count one failed login against the account and the address."""
    window = settings.LOGIN_FAILURE_WINDOW
    for kind, value, limit in _subjects(request, username):
        key = _key(kind, value)
        # A read-modify-write: two simultaneous failures may count as one,
        # which only delays the lock by one attempt.
        state = cache.get(key) or {"count": 0, "until": time.time() + window}
        remaining = state["until"] - time.time()
        if remaining <= 0:
            state, remaining = {"count": 0, "until": time.time() + window}, window
        state["count"] += 1
        cache.set(key, state, math.ceil(remaining))
        if state["count"] == limit:
            log.warning("login locked: %s after %d failures", kind, state["count"], extra={"subject": kind})


def clear_account(username):
    if username:
        cache.delete(_key("account", username.strip().casefold()))


@receiver(user_login_failed, dispatch_uid="curation.lockout.failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    record_failure(request, credentials.get("username", ""))


@receiver(user_logged_in, dispatch_uid="curation.lockout.succeeded")
def _logged_in(sender, request, user, **kwargs):
    clear_account(user.get_username())


class LockoutBackend:
    """First in AUTHENTICATION_BACKENDS: refuses any login while locked out.

    Raising PermissionDenied stops Django from trying the other backends, so
    no login path (admin, API, a future form) can bypass the lock. It never
    authenticates anyone itself; ``get_user`` loads the session's user like
    ModelBackend, so a session (or ``force_login``) naming it still works.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if locked_out(request, username):
            raise PermissionDenied("locked out")
        return None

    def get_user(self, user_id):
        return ModelBackend().get_user(user_id)


class LockoutAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, saying plainly that the account is locked."""

    def clean(self):
        message = locked_out(self.request, self.cleaned_data.get("username"))
        if message:
            raise ValidationError(message, code="locked_out")
        return super().clean()
