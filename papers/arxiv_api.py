"""Talking to the arXiv API: one page at a time, politely, with timeouts and retries.

We build searches with the ``arxiv`` package (``arxiv.Search``, its sort
criteria) and parse pages with its lxml Atom parser (``arxiv._feed.parse``),
but do the HTTP ourselves: its ``Client`` has no request timeout, ignores
``Retry-After``, retries HTTP 400 and drops arXiv's error message, and we need
each page separately so every page can be committed as it arrives.
"""

import logging
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlencode

import arxiv
import requests
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
# arXiv category terms (cs.LG, hep-th, math.GT); the legacy feed also lists MSC/ACM codes.
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z\-]{2,})?$")


class ArxivError(Exception):
    """A request to arXiv that failed for good; ``str()`` is the reason shown to people."""


class ArxivBadRequest(ArxivError):
    """HTTP 400: arXiv rejected the query. Not retried; carries arXiv's own message."""


class ArxivMalformed(ArxivError):
    """The response is not a well-formed arXiv Atom feed."""


class ArxivUnavailable(ArxivError):
    """Retries exhausted (429/5xx, timeouts, connection errors)."""


class EmptyPage(ArxivError):
    """A page that should hold entries stayed empty after every retry."""


@dataclass
class Page:
    results: list  # arxiv.Result
    total: int
    start: int


def _setting(name, default):
    return getattr(settings, name, default)


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
    """arXiv's parser recovers from broken XML silently; a complete feed ends with </feed>."""
    return content.rstrip().endswith(b"</feed>")


def _retry_after(response):
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isdigit():
        return float(value)
    return None


class ArxivClient:
    """Fetches pages from ``ARXIV_API_URL`` through the shared politeness limiter."""

    def __init__(
        self, *, base_url=None, timeout=None, max_retries=None, backoff=None, on_retry=None, sleep=None
    ):
        self.base_url = base_url or settings.ARXIV_API_URL
        self.timeout = float(timeout if timeout is not None else _setting("ARXIV_TIMEOUT", 30.0))
        self.max_retries = int(max_retries if max_retries is not None else _setting("ARXIV_MAX_RETRIES", 5))
        self.backoff = float(backoff if backoff is not None else _setting("ARXIV_BACKOFF", 3.0))
        self.max_backoff = float(_setting("ARXIV_MAX_BACKOFF", 300.0))
        self.on_retry = on_retry or (lambda reason: None)
        self.sleep = sleep or time.sleep
        self.limiter = get_limiter()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

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
                with self.limiter.slot():
                    response = self.session.get(url, timeout=self.timeout)
                    content = response.content
            except requests.Timeout:
                reason = f"arXiv did not answer within {self.timeout:g} s"
            except requests.ConnectionError as exc:
                reason = f"could not connect to arXiv: {exc.__class__.__name__}"
            else:
                status = response.status_code
                if status == 400:
                    message = _error_message(content) or content[:200].decode("utf-8", "replace").strip()
                    raise ArxivBadRequest(f"arXiv rejected the query (HTTP 400): {message}")
                if status in RETRY_STATUSES:
                    retry_after = _retry_after(response)
                    reason = f"arXiv answered HTTP {status}"
                elif status != 200:
                    raise ArxivError(f"arXiv answered HTTP {status} for {url}")
                else:
                    page = self._parse(content, start)
                    if page.results or not expect_results:
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

    def _parse(self, content, start):
        if not _well_formed(content):
            raise ArxivMalformed(
                f"arXiv sent malformed XML at start={start} (the feed is cut off or not XML)"
            )
        feed = _feed.parse(content)
        if feed.malformed:
            raise ArxivMalformed(f"arXiv sent malformed XML at start={start}: {feed.error}")
        message = _error_message(content) if b"/api/errors" in content else ""
        if message:
            raise ArxivBadRequest(f"arXiv reported an error: {message}")
        return Page(feed.results, feed.header.total_results, start)


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


def record_from_result(result):
    """A PaperRecord from an ``arxiv.Result`` (current or legacy feed)."""
    parsed = parse_arxiv_id(result.get_short_id())
    categories = [c for c in result.categories if _CATEGORY.match(c)]
    primary = result.primary_category or (categories[0] if categories else "")
    if primary and primary not in categories:
        categories.insert(0, primary)
    elif primary:
        categories.remove(primary)
        categories.insert(0, primary)
    abstract = " ".join((result.summary or "").split())
    comment = " ".join((result.comment or "").split())
    code_url, project_url = detect_links(abstract, comment)
    return PaperRecord(
        arxiv_id=parsed.id,
        version=parsed.version or 1,
        title=" ".join((result.title or "").split()),
        abstract=abstract,
        authors=[(a.name, "; ".join(a.affiliation)) for a in result.authors],
        primary_category=primary,
        categories=categories,
        submitted_at=result.published.astimezone(UTC),
        updated_at=result.updated.astimezone(UTC),
        comment=comment,
        journal_ref=" ".join((result.journal_ref or "").split()),
        doi=(result.doi or "").strip(),
        code_url=code_url,
        project_url=project_url,
    )
