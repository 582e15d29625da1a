"""Public pages. Every view starts from ``Issue.objects.published()``."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render

from papers.models import Author, Paper

from .models import Issue, Pick


def home(request):
    issue = Issue.objects.for_public_page().latest_first().first()
    return render(request, "issues/issue_detail.html", {"issue": issue, "is_home": True})


def issue_detail(request, slug):
    issue = get_object_or_404(Issue.objects.for_public_page(), slug=slug)
    return render(request, "issues/issue_detail.html", {"issue": issue})


def paper_detail(request, arxiv_id):
    paper = get_object_or_404(Paper.objects.with_authors(), arxiv_id=arxiv_id)
    picks = (
        Pick.objects.filter(issue__in=Issue.objects.published(), paper=paper)
        .select_related("issue")
        .order_by("-issue__published_at")
    )
    if not picks:
        # Only papers that were published as picks have a public page.
        raise Http404("No published pick of this paper.")
    return render(request, "issues/paper_detail.html", {"paper": paper, "picks": picks})


def author_detail(request, slug):
    author = get_object_or_404(Author, slug=slug)
    picks = list(
        Pick.objects.filter(issue__in=Issue.objects.published(), paper__authors=author)
        .select_related("issue", "paper")
        .order_by("-issue__published_at", "position")
    )
    if not picks:
        raise Http404("No published pick by this author.")
    return render(request, "issues/author_detail.html", {"author": author, "picks": picks})
