"""Full-text search over papers: title above authors above abstract; the query language of every search.

Whatever people type goes through ``parse_query`` first, here and in the
public search (issues/search.py): quoted phrases, ``-excluded`` words and
``or`` between alternatives, as in web search engines. The parse is bounded
(MAX_QUERY_CHARS, MAX_TERMS words or phrases, MAX_PHRASE_WORDS, MAX_WORD_CHARS)
and keeps only words, so what reaches PostgreSQL's ``websearch_to_tsquery`` is
always small and well formed: operator-only noise such as 33 dashes or
``(-(-(-`` used to overflow its parser ("tsquery stack too small", a 500 for
anyone). Noise is dropped and words past the limits are ignored, never an error.

On PostgreSQL the search uses ``Paper.search_vector`` (filled by a trigger,
GIN indexed, weights A/B/C). On SQLite it matches each word or phrase with a
case-insensitive ``contains``, with the same meaning: every term of one
alternative, none of its excluded ones.

``search_time_limit()`` runs a search's queries under a PostgreSQL
``statement_timeout`` (SEARCH_STATEMENT_TIMEOUT_MS) and turns a cancelled one
into ``SearchTooSlow``.
"""

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

from curation.pagination import estimate_count

log = logging.getLogger(__name__)

# ts_rank reads every matching row's tsvector: over 800k matches that takes
# seconds. Rank only the first CANDIDATE_CAP matches the GIN index yields.
CANDIDATE_CAP = 500
SEARCH_CONFIG = "english"

# The bounds of a query: longer text is cut, further words are ignored.
MAX_QUERY_CHARS = 200
MAX_TERMS = 8
MAX_PHRASE_WORDS = 6
MAX_WORD_CHARS = 40
# A chunk of the query: an optional run of dashes (exclusion), then a "phrase" (closed
# or not) or anything up to the next space or quote.
_CHUNK = re.compile(r'(?P<minus>-+)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
# A word: letters and digits, joined by single inner hyphens, dots or apostrophes (t-SNE, 3.5, O'Neil).
_WORD = re.compile(r"\w+(?:[-.'’]\w+)*")
# PostgreSQL's "query_canceled", raised when statement_timeout fires.
_QUERY_CANCELED = "57014"


@dataclass(frozen=True)
class Term:
    """A word, or a phrase of words separated by single spaces; ``excluded``: must not appear."""

    text: str
    excluded: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """Alternatives (``or``), each a tuple of Terms that must all hold. Empty: nothing to search."""

    alternatives: tuple = ()

    def __bool__(self):
        return bool(self.alternatives)

    @property
    def websearch(self):
        """The query rewritten in ``websearch_to_tsquery`` syntax, from words only."""
        return " or ".join(
            " ".join(("-" if term.excluded else "") + _quoted(term.text) for term in alternative)
            for alternative in self.alternatives
        )

    @property
    def words(self):
        """The words to highlight: those of the included terms, in order, once each."""
        seen = []
        for alternative in self.alternatives:
            for term in alternative:
                if not term.excluded:
                    seen += [w for w in term.text.split() if w not in seen]
        return seen


def _quoted(text):
    return f'"{text}"' if " " in text else text


def _words(text):
    words = []
    for word in _WORD.findall(text):
        word = word[:MAX_WORD_CHARS].rstrip("-.'’")
        if word:
            words.append(word)
    return words


def parse_query(text):
    """A ParsedQuery from what someone typed; never raises, whatever the text."""
    alternatives, current, count = [], [], 0
    for match in _CHUNK.finditer((text or "")[:MAX_QUERY_CHARS]):
        excluded = bool(match.group("minus"))
        phrase, chunk = match.group("phrase"), match.group("word")
        if chunk is not None and chunk.lower() == "or" and not excluded:
            if current:
                alternatives.append(current)
            current = []
            continue
        if chunk is not None and chunk.lower() == "and" and not excluded:
            continue  # every word is required anyway (and "and" is a stop word)
        if phrase is not None:
            words = _words(phrase)[:MAX_PHRASE_WORDS]
            terms = [Term(" ".join(words), excluded)] if words else []
        else:
            terms = [Term(word, excluded) for word in _words(chunk or "")]
        for term in terms:
            if count < MAX_TERMS:
                current.append(term)
                count += 1
    if current:
        alternatives.append(current)
    # An alternative of exclusions alone would match nearly everything: it is noise.
    kept = tuple(tuple(a) for a in alternatives if any(not term.excluded for term in a))
    return ParsedQuery(kept)


class SearchTooSlow(Exception):
    """PostgreSQL cancelled a search query at SEARCH_STATEMENT_TIMEOUT_MS."""


@contextmanager
def search_time_limit(milliseconds=None):
    """Run the queries inside under a ``statement_timeout``; a cancelled one raises SearchTooSlow.

    On PostgreSQL the block is one transaction with ``SET LOCAL`` (``set_config(…, true)``),
    so the limit ends with it and never leaks to the connection's next request.
    Evaluate the search inside the block: querysets are lazy.
    """
    if connection.vendor != "postgresql":
        yield
        return
    limit = int(milliseconds or settings.SEARCH_STATEMENT_TIMEOUT_MS)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [f"{limit}ms"])
            yield
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == _QUERY_CANCELED:
            log.warning("search cancelled at the statement timeout (%d ms)", limit)
            raise SearchTooSlow(f"The search took longer than {limit / 1000:g} s.") from error
        raise


def _ts_query(parsed):
    return SearchQuery(parsed.websearch, search_type="websearch", config=SEARCH_CONFIG)


def search_papers(queryset, query, *, cap=CANDIDATE_CAP):
    """``queryset`` narrowed to papers matching ``query``, best match first.

    On PostgreSQL the result is annotated with ``rank``; ``cap=None`` ranks every
    match (slow for common words: the benchmark's baseline). Queries without a
    word to search for (blank, or only operators) return ``queryset`` unchanged.
    """
    parsed = parse_query(query)
    if not parsed:
        return queryset
    if connection.vendor != "postgresql":
        return _contains_search(queryset, parsed).order_by("-submitted_at", "-pk")
    ts_query = _ts_query(parsed)
    matches = queryset.filter(search_vector=ts_query)
    if cap is not None:
        # The subquery stops at ``cap`` ids, so the outer ts_rank reads at most that many rows.
        matches = queryset.filter(pk__in=matches.order_by().values("pk")[:cap])
    return matches.annotate(rank=SearchRank(F("search_vector"), ts_query)).order_by(
        "-rank", "-submitted_at", "-pk"
    )


# Above this many matches in the whole table (PostgreSQL's estimate), a narrowed
# queue tests the words row by row instead of reading the GIN index.
COMMON_MATCHES = 50_000


def filter_by_search(queryset, query, *, narrowed=False):
    """``queryset`` narrowed to papers matching ``query``, order untouched (the queue orders by score).

    ``narrowed``: another index (an issue's dates) already limits the rows to a
    few thousand. Then a common word is tested on those rows instead of read
    from the GIN index, whose posting list for "model" holds most of a million
    papers and costs more to read than the rows it would skip.
    """
    parsed = parse_query(query)
    if not parsed:
        return queryset
    if connection.vendor != "postgresql":
        return _contains_search(queryset, parsed)
    ts_query = _ts_query(parsed)
    matches = queryset.filter(search_vector=ts_query)
    if not narrowed:
        return matches
    if estimate_count(queryset.model.objects.filter(search_vector=ts_query), exact_below=0) <= COMMON_MATCHES:
        return matches
    # An expression the GIN index does not cover; same result (search_vector is never null
    # once the trigger ran, and an empty vector matches nothing either way).
    vector = Coalesce(F("search_vector"), Value("", output_field=SearchVectorField()))
    return queryset.alias(unindexed_vector=vector).filter(unindexed_vector=ts_query)


def contains_condition(parsed, fields):
    """A Q for SQLite: some alternative whose terms each appear (or, excluded, appear nowhere) in ``fields``."""
    condition = Q(pk__in=[])
    for alternative in parsed.alternatives:
        required = Q()
        for term in alternative:
            anywhere = Q(pk__in=[])
            for name in fields:
                anywhere |= Q(**{f"{name}__icontains": term.text})
            required &= ~anywhere if term.excluded else anywhere
        condition |= required
    return condition


def _contains_search(queryset, parsed):
    return queryset.filter(contains_condition(parsed, ["title", "authors_text", "abstract"]))
