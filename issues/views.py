"""Public pages. Every view starts from ``Issue.objects.published()``.

The one exception is a staff member opening an unpublished issue's address:
they get a preview (never cached); everyone else gets a 404, on every page.
"""

from itertools import groupby

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from papers.models import Author, Authorship, Paper
from papers.search import SearchTooSlow, search_time_limit

from .issue_page import page_context, page_issue
from .models import Issue, Pick
from .page_cache import cached_public_page, publication_version, set_last_modified
from .search import SearchFilters, highlight, search_facets, search_published, search_refused

SEARCH_PAGE_SIZE = 10


def _is_staff(request):
    # No session cookie: anonymous, known without touching the session table.
    return settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_staff


def _canonical(path):
    return f"{settings.SITE_URL}{path}"


@require_safe
@cached_public_page
def home(request):
    # 1 the publication version (read by the page cache first), 2 the latest issue with its
    # stored page body; when that was stored for an older version: 3 the issue with its
    # neighbours, 4 picks+papers, 5 authorships+authors, 6 figures, 7 storing the new body
    version = publication_version(request)
    issue = page_issue()
    context = {"issue": issue, "is_home": True, "canonical": _canonical("/"), **page_context(issue, version)}
    response = render(request, "issues/issue_detail.html", context)
    return set_last_modified(response, issue.updated_at if issue else None)


@require_safe
@cached_public_page
def issue_detail(request, slug):
    # Queries as on the home page.
    # Staff preview an unpublished issue at its future address.
    version = publication_version(request)
    issue = page_issue(slug, include_unpublished=_is_staff(request))
    if issue is None:
        raise Http404("No published issue at this address.")
    context = {
        "issue": issue,
        "canonical": _canonical(issue.get_absolute_url()),
        **page_context(issue, version),
    }
    response = render(request, "issues/issue_detail.html", context)
    return set_last_modified(response, issue.updated_at if issue.is_published else None)


@require_safe
@cached_public_page
def archive(request):
    # 1 the published issues, 2 their picks with paper titles
    issues = list(
        Issue.objects.published()
        .latest_first()
        .prefetch_related(
            Prefetch(
                "picks",
                queryset=Pick.objects.select_related("paper").only(
                    "issue", "paper", "position", "paper_title", "paper__title", "paper__arxiv_id"
                ),
            )
        )
    )
    years = [(year, list(items)) for year, items in groupby(issues, key=lambda i: i.published_at.year)]
    context = {"years": years, "canonical": _canonical(request.path)}
    response = render(request, "issues/archive.html", context)
    return set_last_modified(response, max((i.updated_at for i in issues), default=None))


@require_safe
@cached_public_page
def paper_detail(request, arxiv_id):
    # 1 the paper, 2 its authorships with authors, 3 its published picks with their issues
    paper = get_object_or_404(Paper.objects.with_authors(), arxiv_id=arxiv_id)
    picks = list(
        Pick.objects.published().filter(paper=paper).select_related("issue").order_by("-issue__published_at")
    )
    if not picks:
        # Only papers that were published as picks have a public page.
        raise Http404("No published pick of this paper.")
    context = {"paper": paper, "picks": picks, "canonical": _canonical(paper.get_absolute_url())}
    return render(request, "issues/paper_detail.html", context)


@require_safe
@cached_public_page
def author_detail(request, slug):
    # 1 the author, 2 their published picks with issues and papers, 3 those papers' authorships
    author = get_object_or_404(Author, slug=slug)
    picks = list(
        Pick.objects.published()
        .filter(paper__authors=author)
        .select_related("issue", "paper")
        .prefetch_related(
            Prefetch(
                "paper__authorships",
                queryset=Authorship.objects.select_related("author").order_by("position"),
            )
        )
        .order_by("-issue__published_at", "position")
    )
    if not picks:
        raise Http404("No published pick by this author.")
    context = {"author": author, "picks": picks, "canonical": _canonical(author.get_absolute_url())}
    return render(request, "issues/author_detail.html", context)


@require_safe
def search(request):
    # With a query, on PostgreSQL inside one transaction that sets its statement_timeout
    # (1 SAVEPOINT or BEGIN, 2 set_config, 7 RELEASE or COMMIT): 3 facet years, 4 facet
    # categories, 5 the count, 6 the page of results. The form alone: the two facets.
    # Searches past their client's rate or the deployment's search concurrency were refused
    # before (issues.search.SearchGuardMiddleware).
    filters = _search_filters(request)
    if not filters.query:
        return _render_search(request, filters)
    try:
        with search_time_limit():
            return _render_search(request, filters)
    except SearchTooSlow as slow:
        return search_refused(503, 5, f"{slow} Try again in a few seconds, or with fewer words.")


def _render_search(request, filters):
    years, categories = search_facets()
    page = None
    if filters.query:
        paginator = Paginator(search_published(filters), SEARCH_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        highlight(page.object_list, filters.query)
    context = {
        "filters": filters,
        "page": page,
        "years": years,
        "categories": categories,
        "canonical": _canonical(request.path),
        "base_query": _query_without_page(request),
    }
    return render(request, "issues/search.html", context)


def _search_filters(request):
    year = request.GET.get("year", "")
    return SearchFilters(
        query=request.GET.get("q", "")[:200],
        year=int(year) if year.isdigit() and len(year) == 4 else None,
        category=request.GET.get("category", "")[:32],
    )


def _query_without_page(request):
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_safe
@cached_public_page
def about(request):
    return render(request, "issues/about.html", {"canonical": _canonical(request.path)})


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /api/",
        "Disallow: /search/",
        "",
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
