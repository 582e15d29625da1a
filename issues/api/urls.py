"""The issues app's part of /api/v1/ (included by curation/api_urls.py): public reads and curation.

One route per verb; the paths are a public contract (tests spell them out).
"""

from django.urls import path, re_path

from .views import (
    AuthorViewSet,
    IssuePickViewSet,
    IssueViewSet,
    IssueWorkflowViewSet,
    PaperViewSet,
    PickViewSet,
)

urlpatterns = [
    # Public reads.
    path("issues/", IssueViewSet.as_view({"get": "list"}), name="issue-list"),
    path("issues/<slug:slug>/", IssueViewSet.as_view({"get": "retrieve"}), name="issue-detail"),
    path("picks/", PickViewSet.as_view({"get": "list"}), name="pick-list"),
    path("papers/", PaperViewSet.as_view({"get": "list", "post": "create"}), name="paper-list"),
    # Old-style arXiv ids contain a slash (hep-th/9901001): the id is the rest of the path.
    re_path(r"^papers/(?P<arxiv_id>.+)/$", PaperViewSet.as_view({"get": "retrieve"}), name="paper-detail"),
    path("authors/", AuthorViewSet.as_view({"get": "list"}), name="author-list"),
    path("authors/<slug:slug>/", AuthorViewSet.as_view({"get": "retrieve"}), name="author-detail"),
    # Curation: an issue's picks, drafts too.
    path(
        "issues/<slug:slug>/picks/",
        IssuePickViewSet.as_view({"get": "list", "post": "create"}),
        name="issue-picks",
    ),
    path(
        "issues/<slug:slug>/picks/reorder/",
        IssuePickViewSet.as_view({"post": "reorder"}),
        name="issue-picks-reorder",
    ),
    path(
        "issues/<slug:slug>/picks/<int:pk>/",
        IssuePickViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="issue-pick",
    ),
    # Curation: the workflow, one route per transition.
    path("issues/<slug:slug>/submit/", IssueWorkflowViewSet.as_view({"post": "submit"}), name="issue-submit"),
    path(
        "issues/<slug:slug>/schedule/",
        IssueWorkflowViewSet.as_view({"post": "schedule"}),
        name="issue-schedule",
    ),
    path(
        "issues/<slug:slug>/publish/", IssueWorkflowViewSet.as_view({"post": "publish"}), name="issue-publish"
    ),
    path(
        "issues/<slug:slug>/unpublish/",
        IssueWorkflowViewSet.as_view({"post": "unpublish"}),
        name="issue-unpublish",
    ),
]
