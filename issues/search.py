"""Search over everything published: commentary, paper titles, abstracts and authors.

Results are published picks. On PostgreSQL: full-text search with the
websearch syntax ("quoted phrases", -excluded, or), ranked, with snippets from
``ts_headline``. On SQLite: every word must appear somewhere (case-insensitive
``contains``), newest issue first, snippets cut in Python.

Snippets are built from text we do not control (commentary, arXiv abstracts),
so the highlight markers are private sentinels: the text is HTML-escaped
first and only then are the sentinels turned into ``<mark>``.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Func, Q, TextField, Value
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import mark_safe

from papers.models import Paper

from .models import Issue, Pick

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
    return Pick.objects.filter(issue__in=Issue.objects.published())


def search_published(filters):
    """Matching published picks, best first, each with ``snippet`` and ``title_html`` once evaluated.

    Returns a queryset; wrap the page you show with ``highlight(page, query)``.
    """
    picks = published_picks().select_related("issue", "paper")
    if filters.year:
        picks = picks.filter(issue__published_at__year=filters.year)
    if filters.category:
        picks = picks.filter(paper__in=Paper.objects.in_category(filters.category).values("pk"))
    query = filters.query.strip()
    if not query:
        return picks.none()
    if connection.vendor == "postgresql":
        return _postgres_search(picks, query)
    return _contains_search(picks, query)


def _postgres_search(picks, query):
    search_query = SearchQuery(query, search_type="websearch", config="english")
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
    return (
        picks.annotate(document=vector)
        .filter(Q(document=search_query) | Q(paper__authors_text__icontains=query))
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
    """The words of a query, without the websearch operators."""
    words = re.findall(r"[\w][\w.\-']*", query)
    return [w for w in words if w.lower() not in {"or", "and"}][:8]


def _contains_search(picks, query):
    terms = query_terms(query)
    if not terms:
        return picks.none()
    for term in terms:
        picks = picks.filter(
            Q(paper__title__icontains=term)
            | Q(paper__abstract__icontains=term)
            | Q(paper__authors_text__icontains=term)
            | Q(why__icontains=term)
            | Q(key_insights__icontains=term)
        )
    return picks.order_by("-issue__published_at", "position")


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
            Paper.objects.filter(picks__issue__in=Issue.objects.published())
            .values_list("primary_category", flat=True)
            .distinct()
            .order_by()
        )
    )
    return years, categories
