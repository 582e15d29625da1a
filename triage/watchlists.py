"""Watchlists: the one rule for what a watchlist entry hits.

A keyword hits a paper whose title or abstract contains it as whole words
("GAN" does not hit "organ"; "diffusion model" hits "… a diffusion model …"),
case-insensitively. An author entry hits a paper with an author of the same
normalized name (accents, case and spacing folded, as Authors are keyed).
The queue's highlights, its "watchlist hits" filter and the ranker's
watchlist signal all read this module, so they agree.
"""

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Q

from papers.models import normalize_author_name
from papers.search import SEARCH_CONFIG

from .models import WatchlistEntry


@dataclass(frozen=True)
class Term:
    kind: str
    term: str
    positive: bool


def _keyword_pattern(term):
    return re.compile(r"(?<!\w)" + re.escape(term.casefold()) + r"(?!\w)")


class Watchlist:
    """Compiled entries; ``hits()`` needs no query."""

    def __init__(self, entries):
        self.keywords = {}  # (folded term, positive) -> (pattern, Term)
        self.authors = {}  # (author key, positive) -> Term
        for entry in entries:
            term = " ".join((entry.term or "").split())
            if not term:
                continue
            item = Term(entry.kind, term, entry.positive)
            if entry.kind == WatchlistEntry.Kind.AUTHOR:
                self.authors.setdefault((normalize_author_name(term), entry.positive), item)
            else:
                self.keywords.setdefault((term.casefold(), entry.positive), (_keyword_pattern(term), item))

    @classmethod
    def of(cls, user=None):
        """``user``'s own entries, or every curator's (the ranker's signal) when None."""
        entries = WatchlistEntry.objects.all() if user is None else WatchlistEntry.objects.filter(user=user)
        return cls(entries.only("kind", "term", "positive"))

    def __bool__(self):
        return bool(self.keywords or self.authors)

    def hits(self, title, abstract, author_keys):
        """The entries (Terms) that hit a paper, in a stable order: authors first."""
        found = []
        keys = set(author_keys)
        for (key, _positive), item in self.authors.items():
            if key in keys:
                found.append(item)
        text = f"{title}\n{abstract}".casefold()
        for pattern, item in self.keywords.values():
            if pattern.search(text):
                found.append(item)
        return found

    def filter(self, queryset):
        """Papers hit by any positive entry of this watchlist (a database filter, same rule as ``hits``).

        On PostgreSQL the phrase search over the indexed text narrows first; the
        whole-word rule is what a phrase query matches anyway. On SQLite the
        keyword is matched with the same whole-word pattern as ``hits`` and
        author names as stored.
        """
        keywords = [item for (_t, positive), (_p, item) in self.keywords.items() if positive]
        authors = [item for (_k, positive), item in self.authors.items() if positive]
        if not keywords and not authors:
            return queryset.none()
        if connection.vendor == "postgresql":
            combined = None
            for item in keywords + authors:
                # Authors are indexed with the 'simple' configuration (no stemming of names).
                config = "simple" if item.kind == WatchlistEntry.Kind.AUTHOR else SEARCH_CONFIG
                query = SearchQuery(item.term, search_type="phrase", config=config)
                combined = query if combined is None else combined | query
            return queryset.filter(search_vector=combined)
        condition = Q()
        for (_t, positive), (pattern, _item) in self.keywords.items():
            if positive:
                condition |= Q(title__iregex=pattern.pattern) | Q(abstract__iregex=pattern.pattern)
        for item in authors:
            condition |= Q(authors_text__icontains=item.term)
        return queryset.filter(condition)

    def paper_hits(self, paper):
        """``hits()`` for a Paper, from its stored author names (no query)."""
        names = [n for n in (paper.authors_text or "").split(", ") if n]
        return self.hits(paper.title, paper.abstract, [normalize_author_name(n) for n in names])


def split_hits(hits):
    """{"positive": [terms], "negative": [terms]}: what the ranker stores in its explanation."""
    return {
        "positive": [h.term for h in hits if h.positive],
        "negative": [h.term for h in hits if not h.positive],
    }
