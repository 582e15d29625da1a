"""The heavy part of a published issue page, rendered once and read back.

The picks (titles, links, author bylines, commentary, figures) and the JSON-LD
take most of the page's render time and change only when an editor edits, a
figure is added or arXiv updates a picked paper. Like the Markdown fields,
they are stored (``IssuePage``); unlike them, they are checked on every read: the
page's one query annotates a *stamp* of what they were rendered from
(``IssueQuerySet.with_page_stamp``), and a stamp that no longer matches renders
them again and stores the new copy. Nothing has to remember to invalidate
them: an edit, a reorder, a removed pick, a new figure, a harvested update of
a picked paper (its ``modified``) or a deployment that changes the template
each changes the stamp. (An author renamed by hand in the admin shows once
something else about the issue changes.)

Only published issues are stored; a staff preview of a draft renders live.
"""

import hashlib
from datetime import date
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import prefetch_related_objects
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe

from .models import Issue, IssuePage, page_contents
from .templatetags.public_tags import issue_jsonld

BODY_TEMPLATE = "issues/_issue_body.html"
_SLUG = "\x00slug"
_PAGE_SQL = {}


def _page_queryset(*, latest, include_unpublished):
    issues = Issue.objects.all() if include_unpublished else Issue.objects.published()
    issues = issues.with_neighbours().with_page_stamp()
    return issues.latest_first()[:1] if latest else issues.filter(slug=_SLUG)


def page_issue(slug=None, *, include_unpublished=False):
    """The issue a page shows (``slug``'s, or the latest published), with its neighbours
    and page stamp; None when there is none.

    Django takes about 3 ms to build this query's SQL (six subqueries), several
    times what PostgreSQL takes to run it, and the SQL never changes: only the
    slug does. So it is built once per process and database, and run raw.
    """
    key = (connection.vendor, slug is None, include_unpublished)
    if key not in _PAGE_SQL:
        sql, params = _page_queryset(
            latest=slug is None, include_unpublished=include_unpublished
        ).query.sql_with_params()
        # A parameter that depends on the moment (a "published before now") must not be frozen.
        assert not any(isinstance(p, date) for p in params), "the page query must not depend on the time"
        _PAGE_SQL[key] = sql, params
    sql, params = _PAGE_SQL[key]
    params = [slug if p == _SLUG else p for p in params]
    return next(iter(Issue.objects.raw(sql, params)), None)


@lru_cache(maxsize=1)
def _format_stamp():
    """What every rendering depends on besides the data: the template code and the URLs it prints."""
    parts = [settings.SITE_URL, settings.MEDIA_URL]
    for path in (get_template(BODY_TEMPLATE).origin.name, issue_jsonld.__code__.co_filename):
        parts.append(Path(path).read_text())
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def page_stamp(issue):
    """What ``issue``'s page body is rendered from, as annotated by ``with_page_stamp()``.

    The issue's own fields are in hand and hashed whole; its picks, their papers
    and figures are summed up by the query (their count, last change and order).
    """
    data = "\x00".join(
        str(part)
        for part in (
            _format_stamp(),
            issue.slug,
            issue.title,
            issue.subtitle,
            issue.byline,
            issue.intro_html,
            issue.outro_html,
            issue.references,
            issue.status,
            issue.published_at,
            issue.updated_at,
            issue.picks_stamp,
            issue.figures_stamp,
        )
    )
    return hashlib.sha256(data.encode()).hexdigest()[:40]


def page_context(issue):
    """``page_body`` (the picks' HTML) and ``page_jsonld`` for the issue page template.

    A published issue annotated by ``with_page_stamp()`` reads its stored copy
    when it is current, or renders it (three queries) and stores it for the
    next reader. Anything else (a draft's preview, the unsaved changes of the
    live preview) renders from the data in hand.
    """
    if issue is None:
        return {}
    stamp = page_stamp(issue) if issue.is_published and hasattr(issue, "picks_stamp") else None
    if stamp and issue.stored_stamp == stamp:
        return {"page_body": mark_safe(issue.stored_body_html), "page_jsonld": mark_safe(issue.stored_jsonld)}
    prefetch_related_objects([issue], *page_contents())
    body = render_to_string(BODY_TEMPLATE, {"issue": issue, "link_base": ""})
    jsonld = issue_jsonld(issue)
    if stamp:
        _store(issue, stamp, body, jsonld)
    return {"page_body": mark_safe(body), "page_jsonld": jsonld}


def _store(issue, stamp, body, jsonld):
    # One upsert: two readers storing at once both succeed, the last one's copy stays.
    IssuePage.objects.bulk_create(
        [IssuePage(issue_id=issue.pk, stamp=stamp, body_html=body, jsonld=jsonld)],
        update_conflicts=True,
        unique_fields=["issue"],
        update_fields=["stamp", "body_html", "jsonld"],
    )
