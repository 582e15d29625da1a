"""Liveness and readiness probes for load balancers and docker-compose."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

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
    from curation.celery import app

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
