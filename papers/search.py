"""Full-text search over papers: title above authors above abstract.

On PostgreSQL it uses ``Paper.search_vector`` (filled by a trigger, GIN
indexed, weights A/B/C) and ``websearch_to_tsquery``, so curators can type
``"graph neural" -quantum``. On SQLite it falls back to a contains match on
each word, with the same quotes and exclusions.
"""

import shlex

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

# ts_rank reads every matching row's tsvector: over 800k matches that takes
# seconds. Rank only the first CANDIDATE_CAP matches the GIN index yields.
CANDIDATE_CAP = 500
SEARCH_CONFIG = "english"


def search_papers(queryset, query, *, cap=CANDIDATE_CAP):
    """``queryset`` narrowed to papers matching ``query``, best match first.

    On PostgreSQL the result is annotated with ``rank``; ``cap=None`` ranks every
    match (slow for common words: the benchmark's baseline). Blank queries
    return ``queryset`` unchanged.
    """
    query = (query or "").strip()
    if not query:
        return queryset
    if connection.vendor != "postgresql":
        return _contains_search(queryset, query).order_by("-submitted_at", "-pk")
    ts_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
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
    query = (query or "").strip()
    if not query:
        return queryset
    if connection.vendor != "postgresql":
        return _contains_search(queryset, query)
    ts_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    matches = queryset.filter(search_vector=ts_query)
    if not narrowed:
        return matches
    from curation.pagination import estimate_count

    if estimate_count(queryset.model.objects.filter(search_vector=ts_query), exact_below=0) <= COMMON_MATCHES:
        return matches
    # An expression the GIN index does not cover; same result (search_vector is never null
    # once the trigger ran, and an empty vector matches nothing either way).
    vector = Coalesce(F("search_vector"), Value("", output_field=SearchVectorField()))
    return queryset.alias(unindexed_vector=vector).filter(unindexed_vector=ts_query)


def parse_words(query):
    """Split web-search syntax into (included, excluded) phrases: quotes keep phrases, ``-`` excludes."""
    try:
        parts = shlex.split(query)
    except ValueError:  # an unbalanced quote: treat it as a plain word
        parts = query.replace('"', " ").split()
    included, excluded = [], []
    for part in parts:
        if part.lower() == "or":
            continue
        if part.startswith("-") and len(part) > 1:
            excluded.append(part[1:])
        elif part.strip("-"):
            included.append(part)
    return included, excluded


def _text_match(phrase):
    return Q(title__icontains=phrase) | Q(authors_text__icontains=phrase) | Q(abstract__icontains=phrase)


def _contains_search(queryset, query):
    included, excluded = parse_words(query)
    for phrase in included:
        queryset = queryset.filter(_text_match(phrase))
    for phrase in excluded:
        queryset = queryset.exclude(_text_match(phrase))
    return queryset
