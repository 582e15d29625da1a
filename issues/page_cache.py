"""Rendered public pages, cached and answered with 304 when the reader has them.

A page is cached under its path (not its query string) with the site-wide *publication
version*: a token kept in the cache and replaced whenever an issue, a pick or
a figure changes (publish, correction, unpublish, scheduled publication) or a
harvest brings a new version of a picked paper, so every cached page is
invalidated at once without having to know which pages showed the changed
issue (home, archive, feeds, paper and author pages…). The API's public issue
and pick reads are kept the same way (``lookup``/``store``, issues/api/reads.py).

The cache is an optimisation, never a dependency: when Redis is down every
cache call fails quietly and the page is rendered from the database.
"""

import hashlib
import logging
import threading
import uuid
from collections import OrderedDict
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe

log = logging.getLogger(__name__)

VERSION_KEY = "public-pages:version"
# A safety net: every change readers can see replaces the version at once.
PAGE_TIMEOUT = 3600
# Readers' browsers and shared caches must revalidate: a correction shows at once.
BROWSER_MAX_AGE = 0
# Pages each process keeps in memory (about 50 kB each), checked against the shared version.
LOCAL_PAGES = 200


def _cache_get(key):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - any cache failure (Redis down, timeout) means "miss"
        log.warning("page cache unavailable for get", exc_info=True)
        return None


def _cache_set(key, value, timeout):
    try:
        cache.set(key, value, timeout)
    except Exception:  # noqa: BLE001 - the page was rendered; failing to keep it is harmless
        log.warning("page cache unavailable for set", exc_info=True)


def publication_version():
    """The current version token; created on first use (or after the cache was flushed)."""
    version = _cache_get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex[:12]
        try:
            # add(): two processes starting together agree on one token.
            if not cache.add(VERSION_KEY, version, None):
                version = cache.get(VERSION_KEY) or version
        except Exception:  # noqa: BLE001
            log.warning("page cache unavailable for add", exc_info=True)
    return version


def _new_version():
    _cache_set(VERSION_KEY, uuid.uuid4().hex[:12], None)


def bump_publication_version():
    """Invalidate every cached public page: now, and again once the transaction commits.

    Now, so that the next read in this transaction (or in a test, where nothing
    commits) sees the change. Again after the commit, because a reader who
    rendered between the first bump and the commit cached the old content
    under the new version.
    """
    _new_version()
    transaction.on_commit(_new_version)


def _page_key(key):
    # For pages, the path only: no cached page reads its query string, and ignoring it
    # means "?x=random" cannot bust the cache or flood it with copies.
    return f"public-pages:page:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


def _may_use_cache(request):
    """Anonymous GET/HEAD only. Without a session cookie nobody is signed in (staff may see
    previews of unpublished issues): we know it without touching the session."""
    return (
        request.method in ("GET", "HEAD")
        and settings.PUBLIC_PAGE_CACHE
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class _LocalPages:
    """A small per-process LRU of page entries in front of the shared cache.

    A hit then costs one tiny round trip (the version) instead of fetching and
    unpickling the whole page from Redis; the version check keeps it exact.
    """

    def __init__(self, size):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, path, version):
        with self.lock:
            entry = self.entries.get(path)
            if entry is None or entry["version"] != version:
                return None
            self.entries.move_to_end(path)
            return entry

    def put(self, path, entry):
        with self.lock:
            self.entries[path] = entry
            self.entries.move_to_end(path)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


_local_pages = _LocalPages(LOCAL_PAGES)


def lookup(key):
    """(current version or None when the cache is down, entry or None) for ``key``.

    ``key`` is a page's path, or any other address of a public response (the API's).
    """
    try:
        version = cache.get(VERSION_KEY)
    except Exception:  # noqa: BLE001 - cache down: render from the database
        log.warning("page cache unavailable for get", exc_info=True)
        return None, None
    version = version or publication_version()
    entry = _local_pages.get(key, version)
    if entry is not None:
        return version, entry
    entry = _cache_get(_page_key(key))
    if entry is None or entry.get("version") != version:
        return version, None  # never cached, or cached before the last publication change
    _local_pages.put(key, entry)
    return version, entry


def store(key, version, content, headers, timeout=PAGE_TIMEOUT):
    """Keep a rendered public response under ``key`` for readers of publication ``version``."""
    entry = {"version": version, "content": content, "headers": headers}
    _cache_set(_page_key(key), entry, timeout)
    _local_pages.put(key, entry)


def conditional(request, response):
    """``response``, or 304/412 when the request's validators match its ETag / Last-Modified."""
    last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
    return (
        get_conditional_response(
            request, etag=response.get("ETag"), last_modified=last_modified, response=response
        )
        or response
    )


class PublicPageCacheMiddleware:
    """Serves cached public pages before sessions, CSRF and auth run, and stores new ones.

    Sits right after WhiteNoise: a hit costs one cache round trip and answers
    a conditional GET with 304. Only responses of views wrapped in
    ``cached_public_page`` are stored, with every header the inner middleware
    added (the outer ones, security headers included, run on hits too).
    """

    SKIP_PREFIXES = ("/admin/", "/triage/", "/api/", "/static/", "/media/", "/preview/", "/search/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _may_use_cache(request) or request.path.startswith(self.SKIP_PREFIXES):
            return self.get_response(request)
        version, entry = lookup(request.path)
        if entry is not None:
            if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
            if if_none_match and if_none_match == dict(entry["headers"]).get("ETag"):
                # The reader has this page: answer before building the full response.
                response = HttpResponseNotModified()
                for name, value in entry["headers"]:
                    if name not in ("Content-Type", "Content-Length"):
                        response[name] = value
                return response
            response = HttpResponse(entry["content"])
            for name, value in entry["headers"]:
                response[name] = value
            return conditional(request, response)
        response = self.get_response(request)
        content = getattr(response, "_public_page_content", None)
        if version is not None and content is not None and not response.cookies:
            headers = [(name, value) for name, value in response.items() if name.lower() != "set-cookie"]
            store(request.path, version, content, headers)
        return response


def cached_public_page(view):
    """Mark a public view's 200 responses as cacheable, with validators for conditional GET.

    The view may set ``Last-Modified`` (the issue's updated time); the ETag is
    the hash of the body. PublicPageCacheMiddleware stores and serves them.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.streaming:
            return response
        if hasattr(response, "render") and callable(response.render):
            response.render()
        response["ETag"] = f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
        if _may_use_cache(request):
            patch_cache_control(response, public=True, max_age=BROWSER_MAX_AGE, must_revalidate=True)
            response._public_page_content = response.content
        else:
            # A signed-in page (a staff preview of a draft) must never sit in a shared cache.
            patch_cache_control(response, private=True, no_store=True)
            patch_vary_headers(response, ["Cookie"])
        return conditional(request, response)

    return wrapper


def set_last_modified(response, when):
    if when is not None:
        response["Last-Modified"] = http_date(when.timestamp())
    return response


def _on_change(sender, **kwargs):
    if kwargs.get("raw"):  # loaddata: nothing readers saw has changed yet
        return
    bump_publication_version()


def _on_papers_updated(sender, paper_ids, **kwargs):
    from .models import Issue, Pick

    published_picks = Pick.objects.filter(issue__in=Issue.objects.published())
    for start in range(0, len(paper_ids), 500):
        if published_picks.filter(paper_id__in=paper_ids[start : start + 500]).exists():
            bump_publication_version()
            return


def connect_signals():
    """Any saved or deleted Issue, Pick or Figure invalidates the public pages, and so does
    a harvest bringing a new version of a paper some published issue picked.

    A signal rather than a call in each editing function: publishing, editing,
    unpublishing and the scheduler all save through the models, and a new
    editing path cannot forget to invalidate.
    """
    from django.db.models.signals import post_delete, post_save

    from papers.ingest import papers_updated

    from .models import Figure, Issue, Pick

    papers_updated.connect(_on_papers_updated, dispatch_uid="page-cache-papers-updated")
    for model in (Issue, Pick, Figure):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"page-cache-{model.__name__}-save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"page-cache-{model.__name__}-delete")
