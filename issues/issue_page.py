"""The heavy part of a published issue page, rendered once per publication version and stored.

The picks (titles, links, author bylines, commentary, figures), the previous
and next issue links and the JSON-LD take most of the page's render time:
about 10 ms of queries and templates, against about 2 ms for the rest of
the page (bench/pages.py). They change only when published content changes,
which replaces the publication version (issues/page_cache.py). So the first
reader of an issue after a change renders them and stores them with that
version (``IssuePage``); every later reader gets them in the same query as
the issue itself, as long as the version is still current. Nothing else has
to remember to invalidate them.

Only published issues are stored; previews (staff at the issue's address,
signed links, the live preview) always render what they are given.
"""

import hashlib
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe

from .models import Issue, IssuePage, page_contents
from .templatetags.public_tags import issue_jsonld

BODY_TEMPLATE = "issues/_issue_body.html"
NAV_TEMPLATE = "issues/_issue_nav.html"


def page_issue(slug=None, *, include_unpublished=False):
    """The issue a page shows (``slug``'s, or the latest published) with its stored page body;
    None when there is none."""
    issues = Issue.objects.all() if include_unpublished else Issue.objects.published()
    issues = issues.with_stored_page()
    if slug is None:
        return issues.latest_first().first()
    return issues.filter(slug=slug).first()


@lru_cache(maxsize=1)
def _code_stamp():
    """What the stored parts depend on besides the data: their templates and the URLs they print.

    A release runs ``migrate``, which retires every version anyway; this makes a template
    edited during development show at once too.
    """
    parts = [settings.SITE_URL, settings.MEDIA_URL]
    for path in (
        get_template(BODY_TEMPLATE).origin.name,
        get_template(NAV_TEMPLATE).origin.name,
        issue_jsonld.__code__.co_filename,
    ):
        parts.append(Path(path).read_text())
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def page_context(issue, version=None):
    """``page_body`` (the picks' HTML), ``page_nav`` and ``page_jsonld`` for the issue page template.

    For a published issue read with ``page_issue()`` and the request's publication
    ``version``: the stored copy when it was rendered for that version, or else a
    new rendering (the issue's neighbours, picks with papers, authors and figures:
    four queries) stored for the next reader (one more). Without a version (a
    preview, the unsaved changes of the live preview) it renders what it is given.
    """
    if issue is None:
        return {}
    if version is None or not issue.is_published or not hasattr(issue, "stored_version"):
        prefetch_related_objects([issue], *page_contents())
        return _render(issue)
    stamp = f"{version}:{_code_stamp()}"
    if issue.stored_version == stamp:
        return {
            "page_body": mark_safe(issue.stored_body_html),
            "page_nav": mark_safe(issue.stored_nav_html),
            "page_jsonld": mark_safe(issue.stored_jsonld),
        }
    full = Issue.objects.with_neighbours().with_page_contents().get(pk=issue.pk)
    context = _render(full)
    # One upsert: two readers storing at once both succeed; if the last one had read an older
    # version, the next reader merely renders again.
    IssuePage.objects.bulk_create(
        [
            IssuePage(
                issue_id=issue.pk,
                version=stamp,
                body_html=context["page_body"],
                nav_html=context["page_nav"],
                jsonld=context["page_jsonld"],
            )
        ],
        update_conflicts=True,
        unique_fields=["issue"],
        update_fields=["version", "body_html", "nav_html", "jsonld"],
    )
    return context


def _render(issue):
    return {
        "page_body": mark_safe(render_to_string(BODY_TEMPLATE, {"issue": issue, "link_base": ""})),
        "page_nav": mark_safe(render_to_string(NAV_TEMPLATE, {"issue": issue})),
        "page_jsonld": issue_jsonld(issue),
    }
