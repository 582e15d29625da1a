"""Talking to the arXiv API: one page at a time, politely, within a deadline and a size cap.

We build searches with the ``arxiv`` package (``arxiv.Search``, its sort
criteria) and read entries with its lxml Atom reader (``arxiv._feed``), but do
the HTTP ourselves: its ``Client`` has no request timeout, ignores
``Retry-After``, retries HTTP 400 and drops arXiv's error message, and we need
each page separately so every page can be committed as it arrives.

The HTTP is ``http.client`` rather than ``requests``: a read timeout fires only
when the server sends *nothing* for that long, so a server dripping a byte
every few seconds would hold the deployment-wide arXiv slot forever. Each
request gets a wall-clock deadline (``ARXIV_REQUEST_DEADLINE``) enforced by a
timer that shuts the socket down, which only works when we own the socket, and
a size cap (``ARXIV_MAX_RESPONSE_BYTES``) checked while streaming, so a huge
answer is neither held in memory nor downloaded again by a retry.

Entries that cannot be used (no id, an id that is not arXiv's, unreadable
dates) are not dropped silently: each page lists them as ``problems``, and the
harvest records them on its run. Fields longer than any real paper's
(``FIELD_LIMITS``) are cut and the cut is reported the same way.
"""

import http.client
import logging
import random
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC
from urllib.parse import urlencode, urlsplit, urlunsplit

import arxiv
from arxiv import _feed
from django.conf import settings
from lxml import etree

from .arxiv_ids import parse_arxiv_id
from .ingest import PaperRecord
from .links import detect_links
from .politeness import get_limiter

logger = logging.getLogger(__name__)

USER_AGENT = "curation-best-of-arxiv/1.0 (+https://github.com/; polite harvester)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
# arXiv's own maximum page size.
MAX_PAGE_SIZE = 2000
_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
# arXiv category terms (cs.LG, hep-th, math.GT); the legacy feed also lists MSC/ACM codes.
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z\-]{2,})?$")
# No real paper comes near these (arXiv caps abstracts at 1,920 characters today;
# collaborations sign with up to ~5,000 authors). Longer values are cut, and the cut recorded.
FIELD_LIMITS = {"title": 1_000, "abstract": 20_000, "comment": 2_000, "journal_ref": 1_000, "doi": 255}
MAX_AUTHORS = 10_000
MAX_CATEGORIES = 50
# lxml refuses text nodes over 10 MB and documents nested absurdly deep (huge_tree off).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
_READ_CHUNK = 64 * 1024


class ArxivError(Exception):
    """A request to arXiv that failed for good; ``str()`` is the reason shown to people."""


class ArxivBadRequest(ArxivError):
    """HTTP 400: arXiv rejected the query. Not retried; carries arXiv's own message."""


class ArxivMalformed(ArxivError):
    """The response is not a well-formed arXiv Atom feed."""


class ArxivTooLarge(ArxivError):
    """The answer passed ARXIV_MAX_RESPONSE_BYTES. Not retried: it would come back as large."""


class ArxivUnavailable(ArxivError):
    """Retries exhausted (429/5xx, timeouts, deadlines, connection errors)."""


class EmptyPage(ArxivError):
    """A page that should hold entries stayed empty after every retry."""


@dataclass
class Page:
    results: list  # arxiv.Result, the usable entries
    total: int
    start: int
    # Every <entry> of the page, usable or not: where the next page starts.
    entries: int = 0
    # "id: reason" for each entry left out.
    problems: list = field(default_factory=list)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class _DeadlinePassed(Exception):
    pass


class _TooLarge(Exception):
    pass


def _setting(name, default):
    return getattr(settings, name, default)


def _megabytes(size):
    return f"{size / 1_000_000:g} MB"


def http_get(url, *, timeout, deadline, max_bytes, headers=None):
    """GET ``url``: the whole exchange ends within ``deadline`` seconds and reads at most ``max_bytes``.

    ``timeout`` bounds connecting and each read. Raises ``_DeadlinePassed``,
    ``_TooLarge``, ``TimeoutError`` or another ``OSError``/``HTTPException``.
    """
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=min(timeout, deadline))
    expired = threading.Event()

    def cut():
        # Wakes a read blocked in another thread: the socket reads as closed.
        expired.set()
        sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(deadline, cut)
    timer.daemon = True
    timer.start()
    try:
        connection.connect()
        if expired.is_set():  # the deadline passed while connecting, before there was a socket to cut
            raise _DeadlinePassed
        path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
        connection.request("GET", path, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = connection.getresponse()
        declared = response.getheader("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _TooLarge(int(declared))
        chunks, size = [], 0
        while chunk := response.read1(_READ_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise _TooLarge(size)
            chunks.append(chunk)
        if expired.is_set():  # a cut socket can look like a clean end of the answer
            raise _DeadlinePassed
        return Answer(response.status, response.headers, b"".join(chunks))
    except (OSError, http.client.HTTPException):
        if expired.is_set():
            raise _DeadlinePassed from None
        raise
    finally:
        timer.cancel()
        connection.close()


def _error_message(content):
    """arXiv's message from an error feed (``<summary>`` of its error entry), if any."""
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except (etree.XMLSyntaxError, ValueError):
        return ""
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = entry.findtext(f"{_ATOM}id") or ""
        if "/api/errors" in entry_id:
            return " ".join((entry.findtext(f"{_ATOM}summary") or "").split())
    return ""


def _well_formed(content):
    """lxml recovers from broken XML silently; a complete feed ends with </feed>."""
    return content.rstrip().endswith(b"</feed>")


def _retry_after(headers):
    value = (headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    return None


def _entry_problem(element, position):
    """Why ``arxiv._feed`` could not make a Result of this <entry>."""
    entry_id = (element.findtext(f"{_ATOM}id") or "").strip()
    name = entry_id[:100] or f"entry {position}"
    for tag in ("id", "updated", "published"):
        if not (element.findtext(f"{_ATOM}{tag}") or "").strip():
            return f"{name}: no <{tag}>"
    return f"{name}: unreadable entry"


def parse_page(content, start):
    """A Page from an Atom feed; unusable entries are listed in ``problems``, not dropped."""
    if not _well_formed(content):
        raise ArxivMalformed(f"arXiv sent malformed XML at start={start} (the feed is cut off or not XML)")
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ArxivMalformed(f"arXiv sent malformed XML at start={start}: {exc}") from None
    if root is None:
        raise ArxivMalformed(f"arXiv sent malformed XML at start={start}: an empty document")
    message = _error_message(content) if b"/api/errors" in content else ""
    if message:
        raise ArxivBadRequest(f"arXiv reported an error: {message}")
    try:
        total = int((root.findtext(f"{_OPENSEARCH}totalResults") or "0").strip())
    except ValueError:
        total = 0
    results, problems = [], []
    elements = root.findall(f"{_ATOM}entry")
    for position, element in enumerate(elements, start=start + 1):
        try:
            result = _feed._build_result(element)
        except ValueError as exc:  # a date that is not ISO 8601
            entry_id = (element.findtext(f"{_ATOM}id") or "").strip()[:100] or f"entry {position}"
            problems.append(f"{entry_id}: unreadable date ({str(exc)[:100]})")
            continue
        if result is None:
            problems.append(_entry_problem(element, position))
        else:
            results.append(result)
    return Page(results, total, start, entries=len(elements), problems=problems)


class ArxivClient:
    """Fetches pages from ``ARXIV_API_URL`` through the shared politeness limiter."""

    def __init__(
        self,
        *,
        base_url=None,
        timeout=None,
        deadline=None,
        max_bytes=None,
        max_retries=None,
        backoff=None,
        on_retry=None,
        sleep=None,
    ):
        self.base_url = base_url or settings.ARXIV_API_URL
        self.timeout = float(timeout if timeout is not None else _setting("ARXIV_TIMEOUT", 30.0))
        self.deadline = float(deadline if deadline is not None else _setting("ARXIV_REQUEST_DEADLINE", 90.0))
        self.max_bytes = int(
            max_bytes if max_bytes is not None else _setting("ARXIV_MAX_RESPONSE_BYTES", 50_000_000)
        )
        self.max_retries = int(max_retries if max_retries is not None else _setting("ARXIV_MAX_RETRIES", 5))
        self.backoff = float(backoff if backoff is not None else _setting("ARXIV_BACKOFF", 3.0))
        self.max_backoff = float(_setting("ARXIV_MAX_BACKOFF", 300.0))
        self.on_retry = on_retry or (lambda reason: None)
        self.sleep = sleep or time.sleep
        self.limiter = get_limiter()

    def url(self, search, start, max_results):
        args = {
            "search_query": search.query,
            "id_list": ",".join(search.id_list),
            "sortBy": search.sort_by.value,
            "sortOrder": search.sort_order.value,
            "start": str(start),
            "max_results": str(max_results),
        }
        return f"{self.base_url}?{urlencode(args)}"

    def _wait(self, attempt, retry_after=None):
        if retry_after is not None:
            delay = min(retry_after, self.max_backoff)
        else:
            # Exponential backoff with a little jitter so workers do not retry in lockstep.
            delay = min(self.backoff * (2**attempt), self.max_backoff) * (1 + random.random() * 0.1)
        self.sleep(delay)

    def get(self, url):
        """One GET inside the arXiv slot; the slot is held at most ``deadline`` seconds."""
        with self.limiter.slot():
            return http_get(url, timeout=self.timeout, deadline=self.deadline, max_bytes=self.max_bytes)

    def fetch_page(self, search, start, max_results, *, expect_results=False, empty_retries=None):
        """One page of ``search``; retries transient faults, raises ArxivError when it gives up.

        ``expect_results``: an empty page is a fault (a middle page, or a first
        page that should not be empty) and is retried; after the last retry
        EmptyPage is raised.
        """
        url = self.url(search, start, min(max_results, MAX_PAGE_SIZE))
        max_retries = self.max_retries
        empty_retries = max_retries if empty_retries is None else empty_retries
        empties = 0
        reason = ""
        for attempt in range(max_retries + 1):
            if attempt:
                logger.info("arXiv retry %d for %s: %s", attempt, url, reason)
            retry_after = None
            try:
                answer = self.get(url)
            except _DeadlinePassed:
                reason = f"arXiv did not send its whole answer within {self.deadline:g} s"
            except _TooLarge as exc:
                raise ArxivTooLarge(
                    f"arXiv's answer at start={start} was larger than {_megabytes(self.max_bytes)} "
                    f"({_megabytes(exc.args[0])} read or announced); not retried"
                ) from None
            except TimeoutError:
                reason = f"arXiv did not answer within {self.timeout:g} s"
            except (OSError, http.client.HTTPException) as exc:
                reason = f"could not connect to arXiv: {exc.__class__.__name__}"
            else:
                status, content = answer.status, answer.body
                if status == 400:
                    message = _error_message(content) or content[:200].decode("utf-8", "replace").strip()
                    raise ArxivBadRequest(f"arXiv rejected the query (HTTP 400): {message}")
                if status in RETRY_STATUSES:
                    retry_after = _retry_after(answer.headers)
                    reason = f"arXiv answered HTTP {status}"
                elif status != 200:
                    raise ArxivError(f"arXiv answered HTTP {status} for {url}")
                else:
                    page = parse_page(content, start)
                    if page.entries or not expect_results:
                        return page
                    reason = f"arXiv returned an empty page at start={start}"
                    empties += 1
                    if empties > empty_retries:
                        raise EmptyPage(f"{reason} after {empty_retries} retries")
            if attempt < max_retries:
                self.on_retry(reason)
                self._wait(attempt, retry_after)
        if reason.startswith("arXiv returned an empty page"):
            raise EmptyPage(f"{reason} after {max_retries} retries")
        raise ArxivUnavailable(f"{reason} (gave up after {max_retries} retries)")


def day_query(categories, day):
    """The search for papers submitted on ``day`` (UTC) in any of ``categories``."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    stamp = day.strftime("%Y%m%d")
    return f"({cats}) AND submittedDate:[{stamp}0000 TO {stamp}2359]"


def day_search(categories, day):
    return arxiv.Search(
        query=day_query(categories, day),
        max_results=None,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Ascending,
    )


def id_search(ids):
    return arxiv.Search(id_list=list(ids), max_results=len(ids))


def _capped(name, value, notes):
    limit = FIELD_LIMITS[name]
    if len(value) <= limit:
        return value
    notes.append(f"{name} cut from {len(value):,} to {limit:,} characters")
    return value[:limit]


def record_from_result(result, notes=None):
    """A PaperRecord from an ``arxiv.Result`` (current or legacy feed).

    Raises ValueError when the entry's id is not an arXiv id. Fields longer than
    ``FIELD_LIMITS`` (and author or category lists past their caps) are cut;
    each cut is appended to ``notes`` when given.
    """
    notes = [] if notes is None else notes
    parsed = parse_arxiv_id(result.get_short_id())
    categories = [c for c in result.categories if _CATEGORY.match(c)]
    if len(categories) > MAX_CATEGORIES:
        notes.append(f"{len(categories):,} categories, kept {MAX_CATEGORIES}")
        categories = categories[:MAX_CATEGORIES]
    primary = result.primary_category or (categories[0] if categories else "")
    if primary and primary not in categories:
        categories.insert(0, primary)
    elif primary:
        categories.remove(primary)
        categories.insert(0, primary)
    authors = result.authors
    if len(authors) > MAX_AUTHORS:
        notes.append(f"{len(authors):,} authors, kept {MAX_AUTHORS:,}")
        authors = authors[:MAX_AUTHORS]
    abstract = _capped("abstract", " ".join((result.summary or "").split()), notes)
    comment = _capped("comment", " ".join((result.comment or "").split()), notes)
    code_url, project_url = detect_links(abstract, comment)
    return PaperRecord(
        arxiv_id=parsed.id,
        version=parsed.version or 1,
        title=_capped("title", " ".join((result.title or "").split()), notes),
        abstract=abstract,
        authors=[(a.name, "; ".join(a.affiliation)) for a in authors],
        primary_category=primary,
        categories=categories,
        submitted_at=result.published.astimezone(UTC),
        updated_at=result.updated.astimezone(UTC),
        comment=comment,
        journal_ref=_capped("journal_ref", " ".join((result.journal_ref or "").split()), notes),
        doi=_capped("doi", (result.doi or "").strip(), notes),
        code_url=code_url,
        project_url=project_url,
    )
