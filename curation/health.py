"""Liveness and readiness probes, and what readers get while the database is away.

A PostgreSQL outage (a restart, a failover, a full connection table) raises
OperationalError wherever the first query happens — a view, the session
middleware, an API view. ``server_error`` (handler500) and the API's
exception handler both turn it into 503 with Retry-After: the friendly page
on the site, the error shape under /api/. Anything else stays a 500.
"""

import logging
import sys

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from rest_framework import exceptions

from curation.celery import app

from .api_errors import api_error, error_body

log = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """The process is alive and answering."""
    return JsonResponse({"status": "ok"})


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache():
    if hasattr(cache, "ping"):
        # The Redis cache hides its errors from pages; the probe must see them.
        cache.ping()
        return
    cache.set("readyz", "1", 5)
    if cache.get("readyz") != "1":
        raise RuntimeError("the cache did not return what was written")


def _check_broker():
    if not settings.CELERY_BROKER_URL:
        return  # embedded mode: tasks run in-process
    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@never_cache
def readyz(request):
    """Database, cache and broker reachable; names the one that is not."""
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
    results, ok = {}, True
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:  # noqa: BLE001 - any failure means "not ready"
            log.warning("readyz: %s unavailable: %s", name, error)
            results[name] = f"unavailable: {error.__class__.__name__}"
            ok = False
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": results}, status=200 if ok else 503
    )


# Database outage -----------------------------------------------------------------

# What a lost database raises: no connection, or one that died under the query.
DATABASE_OUTAGE = (OperationalError, InterfaceError)
# A restart takes seconds; a failover up to half a minute.
RETRY_AFTER = 30
OUTAGE_MESSAGE = "The database is not reachable right now; nothing was changed. Try again in a moment."


class DatabaseUnavailable(exceptions.APIException):
    status_code = 503
    default_code = "unavailable"
    default_detail = OUTAGE_MESSAGE
    wait = RETRY_AFTER
    details = {"retry_after": RETRY_AFTER}


@api_error(*DATABASE_OUTAGE)
def _database_unavailable(error):
    # Django logs the 503 with the error's traceback (django.request), like any 5xx.
    return DatabaseUnavailable()


def _unavailable(request):
    if request.path.startswith("/api/"):
        body = error_body(503, OUTAGE_MESSAGE, code="unavailable", details={"retry_after": RETRY_AFTER})
        response = JsonResponse(body, status=503)
    else:
        # No request context: the context processors may need the database too.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request):
    """handler500: 503 with Retry-After while the database is away; otherwise Django's 500 page.

    Django calls it while handling the exception, so ``sys.exc_info()`` names it.
    """
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_OUTAGE):
        return _unavailable(request)
    if request.path.startswith("/api/"):
        body = error_body(500, "The server failed to handle this request; the error was logged.")
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
