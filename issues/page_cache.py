"""One cache for public pages and public API answers, keyed by the publication version.

The publication version is one row in the database (``PublicationVersion``).
The functions that change what readers can see replace it in the same
transaction as the change: publishing and unpublishing (issues/publishing.py,
scheduled publication included), corrections to a published issue's fields,
picks, order and figures (issues/editing.py, issues/figures.py), and the
papers app's ``papers_updated`` signal when it touches a paper some
published issue picked (a harvest bringing a new version, an editor's links,
an author renamed in the admin; below). Drafts, reviews, scheduled issues not yet
out and previews never touch it. So every cached answer is invalidated at
once, without knowing which pages showed the changed issue (home, archive,
feeds, paper and author pages, the API…).

Every request reads the version first (one small query) and may only be
answered with an entry stored under that version, from this process's own
copies or from Redis. Nothing about
invalidation is ever sent to Redis, so nothing can be lost there: a Redis
that was down, frozen or restarted with its old data during a change holds
entries under versions no request asks for any more. Redis only makes pages
faster; when it fails, curation/cache.py skips it for a few seconds and the
pages are rendered from the database.
"""

import hashlib
import secrets
import threading
from collections import OrderedDict
from functools import wraps

from django.apps import apps as global_apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe

from papers.ingest import papers_updated

from .models import Pick, PublicationVersion

# A safety net only: a change readers can see retires every entry at once.
PAGE_TIMEOUT = 3600
# Readers' browsers and shared caches must revalidate: a correction shows at once.
BROWSER_MAX_AGE = 0
# Bytes of answers each process keeps in memory (an issue page is about 50 kB).
LOCAL_COPY_BYTES = 20_000_000
# The one row of PublicationVersion.
_VERSION_ID = 1
_VERSION_SQL = f"SELECT token FROM {PublicationVersion._meta.db_table} WHERE id = {_VERSION_ID}"


def bump_publication_version():
    """Retire every cached page and API answer: call it inside the transaction that changes
    what readers see. The new token commits (or rolls back) with the change itself."""
    token = secrets.token_hex(8)
    # One upsert: the row may be missing on a database flushed by a test.
    PublicationVersion.objects.bulk_create(
        [PublicationVersion(pk=_VERSION_ID, token=token)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["token"],
    )
    return token


def publication_version(request=None):
    """The current version; read once per request (``request`` keeps it) and before any data
    the request renders, so whatever it stores is at least as new as the version it names."""
    version = getattr(request, "_publication_version", None)
    if version is None:
        # Read by every cached request: a plain cursor, because building this query through
        # the ORM takes several times what the database needs to answer it (bench/pages.py).
        with connection.cursor() as cursor:
            cursor.execute(_VERSION_SQL)
            row = cursor.fetchone()
        version = row[0] if row else bump_publication_version()
        if request is not None:
            request._publication_version = version
    return version


def _entry_key(version, key):
    return f"public:{version}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


class _LocalCopies:
    """The answers this process served last, in front of Redis: (version, entry) by key.

    A hit then costs the version query and no round trip to Redis, nor
    unpickling a 50 kB page; the version check keeps it exact. Bounded by the
    size of the bodies, since an API list can weigh ten pages.
    """

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, version):
        with self.lock:
            found = self.entries.get(key)
            if found is None or found[0] != version:
                return None
            self.entries.move_to_end(key)
            return found[1]

    def put(self, key, version, entry):
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.bytes -= len(old[1]["content"])
            self.entries[key] = version, entry
            self.bytes += len(entry["content"])
            while self.bytes > self.max_bytes and self.entries:
                _, (_, evicted) = self.entries.popitem(last=False)
                self.bytes -= len(evicted["content"])

    def clear(self):
        with self.lock:
            self.entries.clear()
            self.bytes = 0


_local = _LocalCopies(LOCAL_COPY_BYTES)


def forget_local_copies():
    """Drop this process's copies (tests: each starts from the same version, rolled back)."""
    _local.clear()


def lookup(key, request=None):
    """(the current version, the entry stored under it for ``key`` or None).

    ``key`` is a page's path, or any other address of a public response (the API's).
    """
    version = publication_version(request)
    entry = _local.get(key, version)
    if entry is None:
        entry = cache.get(_entry_key(version, key))
        if entry is not None:
            _local.put(key, version, entry)
    return version, entry


def store(key, version, content, headers, timeout=PAGE_TIMEOUT):
    """Keep a rendered public response under ``key`` for readers of publication ``version``."""
    entry = {"content": content, "headers": headers}
    cache.set(_entry_key(version, key), entry, timeout)
    _local.put(key, version, entry)


def conditional(request, response):
    """``response``, or 304/412 when the request's validators match its ETag / Last-Modified."""
    last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
    return (
        get_conditional_response(
            request, etag=response.get("ETag"), last_modified=last_modified, response=response
        )
        or response
    )


def _may_use_cache(request):
    """Anonymous GET/HEAD only. Without a session cookie nobody is signed in (staff may see
    previews of unpublished issues): we know it without touching the session."""
    return (
        request.method in ("GET", "HEAD")
        and settings.PUBLIC_PAGE_CACHE
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _goes_to_a_cached_view(request):
    """Whether ``request``'s URL is a view wrapped in ``cached_public_page``: nothing else (the
    admin, the API, search, robots.txt, a 404) spends a query or a round trip on the cache."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, "cached_public_page", False)


class PublicPageCacheMiddleware:
    """Serves cached public pages before sessions, CSRF and auth run, and stores new ones.

    Sits right after WhiteNoise: a hit costs the version query (and a Redis
    round trip when this process has no copy), and answers a conditional GET
    with 304. Only responses of views wrapped in ``cached_public_page`` are
    stored, with every header the inner middleware added (the outer ones,
    security headers included, run on hits too). Keys are the path, not the
    query string: no cached page reads its query string, and ignoring it
    means "?x=random" cannot bust the cache.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _may_use_cache(request) or not _goes_to_a_cached_view(request):
            return self.get_response(request)
        # The Host check Django makes on the way to a view (CommonMiddleware): a host that
        # is not allowed gets the same 400 here, before any cached page is answered.
        request.get_host()
        version, entry = lookup(request.path, request)
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
        if content is not None and not response.cookies:
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

    wrapper.cached_public_page = True
    return wrapper


def set_last_modified(response, when):
    if when is not None:
        response["Last-Modified"] = http_date(when.timestamp())
    return response


@receiver(papers_updated, dispatch_uid="page-cache-papers-updated")
def _on_papers_updated(sender, paper_ids, **kwargs):
    """Papers changed (a harvest's new arXiv versions, an editor's links, an author's name):
    readers see it at once wherever a published issue picked one of them.

    Sent inside the transaction that changed them, so the bump commits with the change.
    """
    published = Pick.objects.published()
    for start in range(0, len(paper_ids), 500):
        if published.filter(paper_id__in=paper_ids[start : start + 500]).exists():
            bump_publication_version()
            return


def retire_pages_after_migrate(sender, using, apps=global_apps, **kwargs):
    """Every deployment runs ``migrate``, and a new release may render pages differently:
    nothing the previous release cached is served. (A test database flushed empty gets its
    row back here too: ``flush`` sends the signal, without ``apps``.)"""
    try:
        model = apps.get_model("issues", "PublicationVersion")
    except LookupError:  # migrated back to before the table existed
        return
    model.objects.using(using).update_or_create(pk=_VERSION_ID, defaults={"token": secrets.token_hex(8)})
