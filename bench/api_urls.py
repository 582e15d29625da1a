"""The benchmark's URLconf: the product's URLs plus the plain-Django baselines of bench/api.py.

Used only by the gunicorn the API benchmark starts (bench/api_settings.py sets
ROOT_URLCONF to this module); the baselines never exist in the product.

Two baselines per figure:

- ``/bench/values/…``: a ``JsonResponse`` of the picks' ``.values()`` rows as
  they come (fewer fields, no nesting): the yardstick of the cached API.
- ``/bench/document/…``: a plain Django view that builds the **same JSON
  document** as the API (same fields, nesting, links, cursor links) from
  ``.values()`` queries, by hand, linking with ``reverse()`` as the site's views
  do: the yardstick of an API cache miss. bench/api.py checks that it equals
  the API's answer before measuring.
- ``/bench/templated/…``: the same view with its links hand-optimized as the
  API's are (``reverse()`` once per URL name): reported for information.
"""

import base64
import functools
from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, JsonResponse
from django.urls import path, reverse

from curation.urls import urlpatterns as product_urlpatterns
from issues.models import Figure, Issue, Pick
from papers.models import Authorship

PICK_VALUES = [
    "id",
    "position",
    "paper_title",
    "paper_version",
    "why",
    "why_html",
    "key_insights",
    "key_insights_html",
    "code_url",
    "demo_url",
    "updated_at",
    "issue__slug",
    "issue__title",
    "issue__published_at",
    "paper__arxiv_id",
    "paper__title",
    "paper__abstract",
    "paper__primary_category",
    "paper__categories",
    "paper__submitted_at",
]
PAGE_SIZE = 50


def values_picks(request):
    """The same 50 published picks as /api/v1/picks/?page_size=50, as .values() rows."""
    picks = Pick.objects.published().order_by("-issue__published_at", "position", "pk").values(*PICK_VALUES)
    return JsonResponse({"results": list(picks[:PAGE_SIZE])})


def values_issue(request, slug):
    """The same issue as /api/v1/issues/<slug>/ with its picks, as .values() rows."""
    issue = (
        Issue.objects.published()
        .filter(slug=slug)
        .values("id", "slug", "title", "subtitle", "byline", "intro_html", "outro_html", "references")
        .first()
    )
    if issue is None:
        raise Http404
    issue["picks"] = list(
        Pick.objects.filter(issue_id=issue.pop("id")).order_by("position").values(*PICK_VALUES)
    )
    return JsonResponse(issue)


# The same document as the API, by hand --------------------------------------------

DOCUMENT_PICK_VALUES = [
    "id",
    "position",
    "paper_title",
    "paper_version",
    "why",
    "why_html",
    "key_insights",
    "key_insights_html",
    "code_url",
    "demo_url",
    "updated_at",
    "issue__slug",
    "issue__title",
    "issue__published_at",
    "paper_id",
    "paper__arxiv_id",
    "paper__version",
    "paper__title",
    "paper__abstract",
    "paper__primary_category",
    "paper__categories",
    "paper__submitted_at",
    "paper__updated_at",
    "paper__comment",
    "paper__journal_ref",
    "paper__doi",
    "paper__code_url",
    "paper__project_url",
]


def _iso(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def reversed_link(name, value):
    """As the site's plain views link: reverse() (STYLE.md), absolute with SITE_URL."""
    return settings.SITE_URL + reverse(name, args=[value])


@functools.lru_cache(maxsize=16)
def _template(name):
    return settings.SITE_URL + reverse(name, args=["__value__"]).replace("__value__", "{}")


def templated_link(name, value):
    """The hand-optimized way: reverse() once per URL name, then format (as the API does)."""
    return _template(name).format(value)


def _documents(rows, *, with_issue, link):
    """The API's pick objects for ``.values()`` rows: authors and figures in one query each."""
    authors = {row["paper_id"]: [] for row in rows}
    for paper_id, slug, name in (
        Authorship.objects.filter(paper_id__in=list(authors))
        .order_by("paper_id", "position")
        .values_list("paper_id", "author__slug", "author__name")
    ):
        authors[paper_id].append(
            {
                "slug": slug,
                "name": name,
                "url": link("issues:author", slug),
                "api_url": link("api:author-detail", slug),
            }
        )
    figures = {row["id"]: [] for row in rows}
    for figure in (
        Figure.objects.filter(pick_id__in=list(figures))
        .order_by("pick_id", "position", "pk")
        .values("pick_id", "image", "width", "height", "alt_text", "caption", "credit", "credit_url")
    ):
        figures[figure["pick_id"]].append(
            {
                "url": f"{settings.SITE_URL}{settings.MEDIA_URL}{figure['image']}" if figure["image"] else "",
                "width": figure["width"],
                "height": figure["height"],
                "alt": figure["alt_text"],
                "caption": figure["caption"],
                "credit": figure["credit"],
                "credit_url": figure["credit_url"],
            }
        )
    documents = []
    for row in rows:
        arxiv_id = row["paper__arxiv_id"]
        document = {"id": row["id"]}
        if with_issue:
            document["issue"] = {
                "slug": row["issue__slug"],
                "title": row["issue__title"],
                "url": link("issues:issue", row["issue__slug"]),
                "published_at": _iso(row["issue__published_at"]),
            }
        document.update(
            {
                "position": row["position"],
                "title": row["paper_title"] or row["paper__title"],
                "paper": {
                    "arxiv_id": arxiv_id,
                    "version": row["paper__version"],
                    "title": row["paper__title"],
                    "abstract": row["paper__abstract"],
                    "authors": authors[row["paper_id"]],
                    "primary_category": row["paper__primary_category"],
                    "categories": list(row["paper__categories"] or []),
                    "submitted_at": _iso(row["paper__submitted_at"]),
                    "updated_at": _iso(row["paper__updated_at"]),
                    "comment": row["paper__comment"],
                    "journal_ref": row["paper__journal_ref"],
                    "doi": row["paper__doi"],
                    "code_url": row["paper__code_url"],
                    "project_url": row["paper__project_url"],
                    "has_code": bool(row["paper__code_url"]),
                    "url": link("issues:paper", arxiv_id),
                    "api_url": link("api:paper-detail", arxiv_id),
                    "abs_url": f"https://arxiv.org/abs/{arxiv_id}",
                    "pdf_url": f"https://arxiv.org/pdf/{arxiv_id}",
                },
                "paper_version": row["paper_version"],
                "why": row["why"],
                "why_html": row["why_html"],
                "key_insights": row["key_insights"],
                "key_insights_html": row["key_insights_html"],
                "code_url": row["code_url"] or row["paper__code_url"],
                "demo_url": row["demo_url"],
                "figures": figures[row["id"]],
                "url": f"{link('issues:issue', row['issue__slug'])}#pick-{row['position']}",
                "updated_at": _iso(row["updated_at"]),
            }
        )
        documents.append(document)
    return documents


def document_picks(request, link=reversed_link):
    """/api/v1/picks/?page_size=50, first page, by hand: the same document, cursor links included."""
    rows = list(
        Pick.objects.published()
        .order_by("-issue__published_at", "position", "pk")
        .values("issue__published_at", *DOCUMENT_PICK_VALUES)[: PAGE_SIZE + 1]
    )
    page, following = rows[:PAGE_SIZE], rows[PAGE_SIZE:]
    next_link = None
    if following:
        # DRF's cursor: the last position on the page that differs from the one after it,
        # with an offset past the rows sharing it (all rows share it here: an offset cursor).
        compare, offset, position = str(following[0]["issue__published_at"]), 0, None
        for row in reversed(page):
            position = str(row["issue__published_at"])
            if position != compare:
                break
            compare, offset = position, offset + 1
        else:
            offset, position = PAGE_SIZE, None
        tokens = {"o": str(offset)} if offset else {}
        if position is not None:
            tokens["p"] = position
        cursor = base64.b64encode(urlencode(tokens).encode()).decode()
        query = urlencode(sorted({**request.GET.dict(), "cursor": cursor}.items()))
        next_link = f"{settings.SITE_URL}/api/v1/picks/?{query}"
    return JsonResponse(
        {"next": next_link, "previous": None, "results": _documents(page, with_issue=True, link=link)}
    )


def document_issue(request, slug, link=reversed_link):
    """/api/v1/issues/<slug>/ by hand: the same document."""
    issue = (
        Issue.objects.published()
        .filter(slug=slug)
        .values(
            "id",
            "slug",
            "title",
            "subtitle",
            "byline",
            "period_start",
            "period_end",
            "published_at",
            "updated_at",
            "intro",
            "intro_html",
            "outro",
            "outro_html",
            "references",
        )
        .first()
    )
    if issue is None:
        raise Http404
    rows = list(Pick.objects.filter(issue_id=issue["id"]).order_by("position").values(*DOCUMENT_PICK_VALUES))
    slug = issue["slug"]
    document = {
        "slug": slug,
        "title": issue["title"],
        "subtitle": issue["subtitle"],
        "byline": issue["byline"],
        "period_start": issue["period_start"].isoformat(),
        "period_end": issue["period_end"].isoformat(),
        "published_at": _iso(issue["published_at"]),
        "updated_at": _iso(issue["updated_at"]),
        "pick_count": len(rows),
        "url": link("issues:issue", slug),
        "api_url": link("api:issue-detail", slug),
        "intro": issue["intro"],
        "intro_html": issue["intro_html"],
        "outro": issue["outro"],
        "outro_html": issue["outro_html"],
        "picks": _documents(rows, with_issue=False, link=link),
        "references": [
            {
                "number": reference.get("number"),
                "key": reference.get("key", ""),
                "text": reference.get("text", ""),
                "url": reference.get("url", ""),
                "arxiv_id": reference.get("arxiv_id", ""),
                "backrefs": list(reference.get("backrefs", [])),
            }
            for reference in issue["references"] or []
        ],
    }
    return JsonResponse(document)


urlpatterns = [
    path("bench/values/picks/", values_picks),
    path("bench/values/issues/<slug:slug>/", values_issue),
    path("bench/document/picks/", document_picks),
    path("bench/document/issues/<slug:slug>/", document_issue),
    path("bench/templated/picks/", document_picks, {"link": templated_link}),
    path("bench/templated/issues/<slug:slug>/", document_issue, {"link": templated_link}),
    *product_urlpatterns,
]
