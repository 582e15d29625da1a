"""The benchmark's URLconf: the product's URLs plus the plain-Django baselines of bench/api.py.

Used only by the gunicorn the API benchmark starts (bench/api_settings.py sets
ROOT_URLCONF to this module); the baselines never exist in the product.
"""

from django.http import Http404, JsonResponse
from django.urls import path

from curation.urls import urlpatterns as product_urlpatterns
from issues.models import Issue, Pick

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


def baseline_picks(request):
    """The same 50 published picks as /api/v1/picks/?page_size=50, from .values()."""
    picks = (
        Pick.objects.filter(issue__in=Issue.objects.published())
        .order_by("-issue__published_at", "position", "pk")
        .values(*PICK_VALUES)[:50]
    )
    return JsonResponse({"results": list(picks)})


def baseline_issue(request, slug):
    """The same issue as /api/v1/issues/<slug>/ with its picks, from .values()."""
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


urlpatterns = [
    path("bench/picks/", baseline_picks),
    path("bench/issues/<slug:slug>/", baseline_issue),
    *product_urlpatterns,
]
