"""Everything under /api/: version 1 of the JSON API, its schema and docs.

Public reads and the curation endpoints share the URLs; the views decide who
may do what. Any other URL under /api/ answers 404 in the API's error shape.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from issues.api import views as issues
from papers import api as papers
from triage import api as triage

from .api_errors import api_not_found

v1 = [
    path("issues/", issues.IssueList.as_view(), name="issue-list"),
    path("issues/<slug:slug>/", issues.IssueDetail.as_view(), name="issue-detail"),
    path("issues/<slug:slug>/picks/", issues.IssuePicks.as_view(), name="issue-picks"),
    path("issues/<slug:slug>/picks/reorder/", issues.IssuePicksReorder.as_view(), name="issue-picks-reorder"),
    path("issues/<slug:slug>/picks/<int:pk>/", issues.IssuePickDetail.as_view(), name="issue-pick"),
    path("issues/<slug:slug>/candidates/", triage.Candidates.as_view(), name="issue-candidates"),
    # Old-style arXiv ids contain a slash (hep-th/9901001): the id is everything up to the action.
    re_path(
        r"^issues/(?P<slug>[-\w]+)/candidates/(?P<arxiv_id>.+)/(?P<action>[a-z]+)/$",
        triage.CandidateAction.as_view(),
        name="issue-candidate-action",
    ),
    re_path(
        r"^issues/(?P<slug>[-\w]+)/(?P<transition>submit|schedule|publish|unpublish)/$",
        issues.IssueTransition.as_view(),
        name="issue-transition",
    ),
    path("picks/", issues.PickList.as_view(), name="pick-list"),
    path("papers/", papers.PaperList.as_view(), name="paper-list"),
    re_path(r"^papers/(?P<arxiv_id>.+)/$", papers.PaperDetail.as_view(), name="paper-detail"),
    path("authors/", papers.AuthorList.as_view(), name="author-list"),
    path("authors/<slug:slug>/", papers.AuthorDetail.as_view(), name="author-detail"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]

app_name = "api"

urlpatterns = [
    path("v1/", include(v1)),
    # [\s\S], not ".": a path with an encoded newline must get the JSON 404 too.
    re_path(r"^[\s\S]*$", api_not_found),
]
