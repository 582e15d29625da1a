"""Limits every request meets: who is asking, how often, and what no page can serve.

Who is asking: ``client_address`` — the one definition of a client that the
API throttles (curation/api_limits.py) and the login lockout
(curation/lockout.py) share, from ``TRUSTED_PROXY_COUNT``.

How often: ``count_in_window`` (a counter over a window that begins with its
first count) and ``RollingRate`` (at most N in any stretch of D seconds). Both
count with atomic operations — Redis INCR in production, the local-memory
cache's lock in the embedded mode — so simultaneous requests cannot all read
the same count and all pass. With Redis down they count nothing: requests
are let through (unthrottled) and the cache logs the outage.

What no page can serve, refused by ``RequestLimitsMiddleware`` before any
view reads the request:

- a body larger than ``MAX_REQUEST_BODY_SIZE`` (by Content-Length): 413.
  Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not cover file uploads; this
  caps every request, uploads included (the proxy should cap it too);
- a chunked body (no Content-Length): 411. Django reads such a body as empty,
  so a form or JSON sent that way would silently lose its content;
- a NUL character or a lone surrogate in the path, the query string or a
  form field: 400. PostgreSQL cannot store or compare text containing NUL and
  a lone surrogate cannot be encoded, so either reaching a query or a
  template would be a 500. Under /api/ the answer gets the API's error shape
  (curation/api_errors.py); JSON bodies are the API parser's to check.
"""

import logging
import math
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import BadRequest
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Who is asking -------------------------------------------------------------------


def client_address(request):
    """The client's address: REMOTE_ADDR, or the one our ``TRUSTED_PROXY_COUNT``-th proxy saw.

    Each proxy appends the address it received the request from to
    X-Forwarded-For, so only the last ``TRUSTED_PROXY_COUNT`` entries were
    written by proxies we run; everything left of them is whatever the client
    sent. With fewer entries than proxies the request did not come through
    all of them, and REMOTE_ADDR is the only address nobody could forge.
    """
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < proxies:
        return remote
    return hops[-proxies][:64]


# How often ----------------------------------------------------------------------


def _redis_client(key):
    """The raw Redis client and the full key, when the cache is Redis; else (None, None)."""
    if not isinstance(cache, RedisCache):
        return None, None
    full_key = cache.make_and_validate_key(key)
    return cache._cache.get_client(full_key, write=True), full_key


def _skipping():
    # The resilient cache leaves a failed Redis alone for a few seconds (curation/cache.py).
    skipping = getattr(cache, "skipping", None)
    return bool(skipping and skipping())


def _redis_failed(operation, error):
    # The resilient cache logs an outage once per 30 s and starts skipping Redis; plain
    # RedisCache has no such hook.
    failed = getattr(cache, "_failed", None)
    if failed:
        failed(operation, error)
    else:
        log.error("cache unavailable, not counting (%s failed: %s)", operation, error)


def count_in_window(key, window):
    """Add one to counter ``key``; the total since its first count, which starts a ``window``-second life.

    Redis: INCR and EXPIRE NX in one MULTI, so the counter and its expiry are
    set together (an INCR alone on a key that just expired would make an
    immortal counter). Returns 0 when Redis is unreachable.
    """
    if _skipping():
        return 0
    client, full_key = _redis_client(key)
    if client is None:
        # Local memory: add() creates it with its expiry, incr() runs under the cache's lock.
        cache.add(key, 0, window)
        try:
            return cache.incr(key)
        except ValueError:  # expired between the two calls: this is its first count
            cache.add(key, 0, window)
            return cache.incr(key)
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.incr(full_key)
            pipe.expire(full_key, window, nx=True)
            count, _ = pipe.execute()
        return count
    except RedisError as error:
        _redis_failed("count", error)
        return 0


def uncount(key):
    """Take back one count of ``key`` (an attempt that turned out not to count)."""
    if _skipping():
        return
    client, full_key = _redis_client(key)
    if client is None:
        try:
            cache.decr(key)
        except ValueError:
            pass
        return
    try:
        # Only if it still exists: DECR on an expired key would create a lasting -1.
        with client.pipeline(transaction=True) as pipe:
            pipe.exists(full_key)
            pipe.ttl(full_key)
            exists, ttl = pipe.execute()
        if exists and ttl > 0:
            client.decr(full_key)
    except RedisError as error:
        _redis_failed("uncount", error)


class RollingRate:
    """At most ``limit`` events per ``duration`` seconds for one key, in any stretch of that length.

    Time is cut into ``SLOTS`` slots per duration, each an atomic counter
    living one duration. An event is counted in the current slot, then the
    slots of the last duration (plus the current one) are summed; over the
    limit, the count is taken back and the event refused. The sum covers a
    little more than one duration, so the limit holds in every stretch — no
    double burst at a window boundary, as a single fixed window would allow —
    at the price of waiting up to one slot longer (Retry-After ≤ duration +
    duration/SLOTS). Simultaneous events each get their own INCR result, so
    they can never all pass.
    """

    SLOTS = 60

    def __init__(self, key, limit, duration):
        self.key, self.limit, self.duration = key, limit, duration
        self.slot_length = duration / self.SLOTS
        self.wait = None

    def _slot_key(self, slot):
        return f"rate:{self.key}:{slot}"

    def allow(self):
        """Count one event; False (and ``wait``, in seconds) when it would pass the limit."""
        now = time.time()
        current = math.floor(now / self.slot_length)
        past = [current - n for n in range(self.SLOTS, 0, -1)]
        # Slots past expire one slot after they leave the window.
        count = count_in_window(self._slot_key(current), math.ceil(self.duration + 2 * self.slot_length))
        if count == 0:
            return True  # the counters are unreachable: let the request through
        earlier = cache.get_many([self._slot_key(slot) for slot in past])
        counts = [int(earlier.get(self._slot_key(slot)) or 0) for slot in past]
        if sum(counts) + count <= self.limit:
            return True
        uncount(self._slot_key(current))
        self.wait = self._wait(now, [*past, current], [*counts, count - 1])
        return False

    def _wait(self, now, slots, counts):
        """Seconds until enough of the oldest slots leave the window for one more event to fit."""
        excess = sum(counts) - self.limit + 1
        for slot, count in zip(slots, counts, strict=True):
            excess -= count
            if excess <= 0:
                return max(0.0, (slot + self.SLOTS + 1) * self.slot_length - now)
        return self.duration + self.slot_length


# What no page can serve -----------------------------------------------------------

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A NUL, or half of a UTF-16 surrogate pair on its own (it cannot be encoded as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _refuse(status, message):
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _unstorable(querydict):
    for key, values in querydict.lists():
        if UNSTORABLE.search(key):
            return key
        for value in values:
            if isinstance(value, str) and UNSTORABLE.search(value):
                return key
    return None


def _problem_message(where, name):
    field = f" (field “{name[:40]}”)" if UNSTORABLE.search(name) is None and name else ""
    return (
        f"The {where}{field} contains a NUL character or a lone surrogate, "
        "which no page accepts. Remove it and try again."
    )


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def refusal(self, request):
        """The response refusing ``request`` before anything reads it, or None."""
        declared = request.META.get("CONTENT_LENGTH")
        try:
            length = int(declared or 0)
        except ValueError:
            return _refuse(400, "Invalid Content-Length.")
        if length > settings.MAX_REQUEST_BODY_SIZE:
            limit_mb = settings.MAX_REQUEST_BODY_SIZE / (1024 * 1024)
            return _refuse(413, f"The request is too large (limit {limit_mb:g} MB).")
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not declared:
            return _refuse(411, "Length Required: send the body with a Content-Length, not chunked.")
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in query or "%00" in query:
            return _refuse(400, "The address contains a NUL character, which no page accepts.")
        name = _unstorable(request.GET)
        if name is not None:
            return _refuse(400, _problem_message("address", name))
        if (
            request.method == "POST"
            and request.content_type in FORM_TYPES
            # The API takes JSON only (a form body there gets 415 from its parser).
            and not request.path.startswith("/api/")
        ):
            try:
                name = _unstorable(request.POST)
            except (BadRequest, MultiPartParserError) as error:
                return _refuse(400, f"The form data is malformed: {error}")
            if name is not None:
                return _refuse(400, _problem_message("form", name))
        return None
