"""Search over everything published: commentary, paper titles, abstracts and authors.

Results are published picks. The query is parsed and bounded by
``papers.search.parse_query`` ("quoted phrases", -excluded, or). On
PostgreSQL: full-text search, ranked, with snippets from ``ts_headline``. On
SQLite: each term must appear somewhere (case-insensitive ``contains``), an
excluded one nowhere, in one of the ``or`` alternatives; newest issue first,
snippets cut in Python.

Searching costs far more than reading a cached page, so the site guards it:
``SearchGuardMiddleware`` allows SEARCH_RATE_PER_MINUTE searches per client
address and SEARCH_CONCURRENCY searches at once in the whole deployment, and
the view runs the queries under ``papers.search.search_time_limit``.

Snippets are built from text we do not control (commentary, arXiv abstracts),
so the highlight markers are private sentinels: the text is HTML-escaped
first and only then are the sentinels turned into ``<mark>``.
"""

import hashlib
import logging
import math
import re
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Func, Q, TextField, Value
from django.db.models.functions import Concat
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from curation.limits import RollingRate
from curation.lockout import client_address
from papers.models import Paper
from papers.search import contains_condition, parse_query

from .models import Issue, Pick

log = logging.getLogger(__name__)

START, STOP = "\x02", "\x03"
SNIPPET_CHARS = 240
# Markdown syntax that reads as noise in a plain-text snippet.
_MARKDOWN_NOISE = re.compile(r"\[\^[^\]\s]+\]|[*_`#>|]+|\]\([^)]*\)|\[")
# Footnote definitions ("[^bert]: arXiv:1810.04805 …") are listed as references, not commentary.
FOOTNOTE_DEFINITION = r"(^|\n)\[\^[^\]\s]+\]:[^\n]*"


@dataclass
class SearchFilters:
    query: str = ""
    year: int | None = None
    category: str = ""


def published_picks():
    return Pick.objects.published()


def search_published(filters):
    """Matching published picks, best first, each with ``snippet`` and ``title_html`` once evaluated.

    Returns a queryset; wrap the page you show with ``highlight(page, query)``.
    """
    picks = published_picks().select_related("issue", "paper")
    if filters.year:
        picks = picks.filter(issue__published_at__year=filters.year)
    if filters.category:
        picks = picks.filter(paper__in=Paper.objects.in_category(filters.category).values("pk"))
    parsed = parse_query(filters.query)
    if not parsed:
        return picks.none()
    if connection.vendor == "postgresql":
        return _postgres_search(picks, parsed)
    return _contains_search(picks, parsed)


def _postgres_search(picks, parsed):
    search_query = SearchQuery(parsed.websearch, search_type="websearch", config="english")
    vector = (
        SearchVector("paper__title", weight="A", config="english")
        + SearchVector("paper__authors_text", weight="A", config="simple")
        + SearchVector("why", "key_insights", weight="B", config="english")
        + SearchVector("paper__abstract", weight="C", config="english")
    )
    body = Concat(
        _without_definitions("why"),
        Value(" \n "),
        _without_definitions("key_insights"),
        Value(" \n "),
        F("paper__abstract"),
        output_field=TextField(),
    )
    matches = Q(document=search_query)
    [first, *others] = parsed.alternatives
    if not others and not any(term.excluded for term in first):
        # A name as typed ("Le Cun", "Lučić") also finds its author when the words alone do not.
        matches |= Q(paper__authors_text__icontains=" ".join(term.text for term in first))
    return (
        picks.annotate(document=vector)
        .filter(matches)
        .annotate(
            rank=SearchRank(vector, search_query),
            headline=SearchHeadline(
                body,
                search_query,
                config="english",
                start_sel=START,
                stop_sel=STOP,
                max_words=40,
                min_words=20,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .order_by("-rank", "-issue__published_at", "position")
    )


def _without_definitions(field):
    return Func(
        F(field),
        Value(FOOTNOTE_DEFINITION),
        Value(" "),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )


def query_terms(query):
    """The words to highlight: those of the query's included terms, without operators."""
    return parse_query(query).words


_SEARCHED_FIELDS = ["paper__title", "paper__abstract", "paper__authors_text", "why", "key_insights"]


def _contains_search(picks, parsed):
    return picks.filter(contains_condition(parsed, _SEARCHED_FIELDS)).order_by(
        "-issue__published_at", "position"
    )


def highlight(picks, query):
    """Attach ``title_html`` and ``snippet`` (safe HTML with <mark>) to each pick of a page."""
    terms = query_terms(query)
    for pick in picks:
        pick.title_html = _mark_terms(pick.title, terms)
        headline = getattr(pick, "headline", None)
        if headline:
            pick.snippet = _sentinels_to_marks(_strip_markdown(headline))
        else:
            pick.snippet = _window(
                _strip_markdown(f"{pick.why}\n{pick.key_insights}\n{pick.paper.abstract}"), terms
            )
    return picks


def _strip_markdown(text):
    text = re.sub(FOOTNOTE_DEFINITION, " ", text)
    return " ".join(_MARKDOWN_NOISE.sub("", text).split())


def _sentinels_to_marks(text):
    text = escape(text.replace(START, "\x00s").replace(STOP, "\x00e"))
    return mark_safe(text.replace("\x00s", "<mark>").replace("\x00e", "</mark>"))


def _term_pattern(terms):
    if not terms:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)


def _mark_terms(text, terms):
    pattern = _term_pattern(terms)
    if pattern is None:
        return escape(text)
    marked = pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", text)
    return _sentinels_to_marks(marked)


def _window(text, terms):
    """About SNIPPET_CHARS around the first matching term, with the terms marked."""
    pattern = _term_pattern(terms)
    match = pattern.search(text) if pattern else None
    start = max(0, (match.start() if match else 0) - SNIPPET_CHARS // 3)
    if start:
        # Begin at a word boundary.
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    piece = text[start : start + SNIPPET_CHARS]
    prefix = "… " if start else ""
    suffix = " …" if start + SNIPPET_CHARS < len(text) else ""
    return mark_safe(prefix + _mark_terms(piece, terms) + suffix)


def search_facets():
    """The years and categories a reader can filter by (two queries)."""
    years = [d.year for d in Issue.objects.published().dates("published_at", "year", order="DESC")]
    categories = sorted(
        set(
            Pick.objects.published().papers().values_list("primary_category", flat=True).distinct().order_by()
        )
    )
    return years, categories


# Guarding the site --------------------------------------------------------------


class _RefusedUntil:
    """Clients this process refused, and until when: asked again, they are refused without Redis.

    A refusal's wait is the time until enough of the client's searches leave
    its rolling minute; nothing the client does can shorten it, so this
    process may answer a flood from that client alone until then. Bounded:
    with MAX clients remembered, the expired ones are dropped, and new ones
    are not remembered if none has expired.
    """

    MAX = 10_000

    def __init__(self):
        self.lock = threading.Lock()
        self.until = {}

    def wait(self, address, now):
        with self.lock:
            until = self.until.get(address, 0)
        return math.ceil(until - now) if until > now else 0

    def refuse(self, address, until, now):
        with self.lock:
            if len(self.until) >= self.MAX:
                self.until = {a: u for a, u in self.until.items() if u > now}
            if len(self.until) < self.MAX:
                self.until[address] = until

    def clear(self):
        with self.lock:
            self.until = {}


_refused = _RefusedUntil()


def forget_local_counts():
    """Drop the refusals this process remembers (tests: each starts with an empty cache)."""
    _refused.clear()


def search_rate_wait(request):
    """Seconds this client must wait before its next search (0: go ahead). Counts this search.

    SEARCH_RATE_PER_MINUTE searches per client address in any rolling minute,
    counted with the API throttle's atomic counters (curation.limits.RollingRate).
    The address is curation.lockout.client_address's, the one place that
    decides how far X-Forwarded-For is trusted. With Redis down nobody is
    throttled: search stays up, only unguarded.
    """
    limit = settings.SEARCH_RATE_PER_MINUTE
    if limit <= 0:
        return 0
    now = time.time()
    address = client_address(request) or "unknown"
    wait = _refused.wait(address, now)
    if wait:
        return wait
    digest = hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    rate = RollingRate(f"search:{digest}", limit, 60)
    if rate.allow():
        return 0
    wait = max(1, math.ceil(rate.wait))
    _refused.refuse(address, now + wait, now)
    log.warning("search rate exceeded by %s: refused for %d s", address, wait)
    return wait


def search_refused(status, retry_after, message):
    """A small page, no template or database: refusals come in floods.

    The rate middleware answers before the security-headers middleware runs, so
    the page carries its own: it has no script, style or image to allow.
    """
    response = HttpResponse(
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Search: try again soon</title>'
        f'<p>{escape(message)} <a href="/">Back to the latest issue</a>.</p></html>',
        status=status,
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "same-origin"
    # Django would log a line for each of a flood's thousands of refusals; the callers log
    # once per refused stretch of a client (search_rate_wait) or per process and minute (search_slot).
    response._has_been_logged = True
    return response


class SearchGuardMiddleware:
    """Refuses searches past their client's rate, or past the deployment's concurrency, up front.

    First in MIDDLEWARE. A flooding client's connections get their turns like
    everyone's (gunicorn serves connections in order), so what protects the
    other readers is that each refusal costs less than even a cached page:
    no other middleware, no template, no database, and once this process saw
    the client over its rate, no Redis either. bench/search.py measures it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.path = None

    def __call__(self, request):
        if self.path is None:
            self.path = reverse("issues:search")
        if (
            request.path != self.path
            or request.method not in ("GET", "HEAD")
            or not request.GET.get("q", "").strip()
        ):
            return self.get_response(request)
        wait = search_rate_wait(request)
        if wait:
            return search_refused(429, wait, f"Too many searches from your address; try again in {wait} s.")
        try:
            with search_slot():
                return self.get_response(request)
        except SearchBusy as busy:  # only ever raised on taking the slot
            return search_refused(503, 5, str(busy))


_busy_logged = {"at": 0.0}


def _log_busy():
    now = time.monotonic()
    if now - _busy_logged["at"] >= 60:
        _busy_logged["at"] = now
        log.warning("search busy: all %d search slots taken, refusing searches", settings.SEARCH_CONCURRENCY)


class SearchBusy(Exception):
    """The deployment already runs SEARCH_CONCURRENCY searches."""


@contextmanager
def search_slot():
    """One of the deployment's SEARCH_CONCURRENCY search slots, or SearchBusy at once.

    Slots are cache keys taken with an atomic add (SET NX in Redis), shared by
    every web process: gunicorn's default is one thread per process, so a
    per-process limit would never bite. A slot expires on its own
    (SEARCH_STATEMENT_TIMEOUT_MS plus a margin) should its process die holding
    it. No waiting: a waiting search would hold its worker thread just the
    same. With the cache down every search goes ahead (unguarded, not refused).
    """
    keys = [f"search-slot:{n}" for n in range(max(1, settings.SEARCH_CONCURRENCY))]
    token = uuid.uuid4().hex
    expires = settings.SEARCH_STATEMENT_TIMEOUT_MS // 1000 + 10
    taken = next((key for key in keys if cache.add(key, token, expires)), None)
    if taken is None and any(cache.get_many(keys).values()):
        _log_busy()
        raise SearchBusy("Search is busy right now; try again in a few seconds.")
    try:
        yield
    finally:
        # Ours unless it expired and another search took it meanwhile.
        if taken is not None and cache.get(taken) == token:
            cache.delete(taken)
