"""Entries for the fake arXiv in harvest tests."""

from datetime import UTC, datetime, timedelta

_n = {"i": 0}


def entry(day, arxiv_id=None, *, version=1, hour=12, categories=("cs.LG", "cs.AI"), **extra):
    """One fake-arXiv entry submitted on ``day`` (a date)."""
    _n["i"] += 1
    published = datetime(day.year, day.month, day.day, hour, _n["i"] % 60, tzinfo=UTC)
    values = {
        "arxiv_id": arxiv_id or f"2506.{_n['i'] + 20000:05d}",
        "version": version,
        "title": f"Paper number {_n['i']}",
        "abstract": f"We study problem {_n['i']}.",
        "authors": [["Ada Lovelace", "Analytical Engine Ltd"], ["Alan Turing", ""]],
        "categories": list(categories),
        "published": published.isoformat(),
        "updated": (published + timedelta(days=version - 1)).isoformat(),
    }
    values.update(extra)
    return values


def entries_on(day, count, **extra):
    return [entry(day, hour=(i % 23), **extra) for i in range(count)]
