"""The triage app's part of /api/v1/ (included by curation/api_urls.py): the queue and its verbs.

One route per verb. Old-style arXiv ids contain a slash (hep-th/9901001): the
id is everything between ``candidates/`` and the verb.
"""

from django.urls import path, re_path

from .api import CandidateViewSet

CANDIDATE = r"^issues/(?P<slug>[-\w]+)/candidates/(?P<arxiv_id>.+)"

urlpatterns = [
    path(
        "issues/<slug:slug>/candidates/", CandidateViewSet.as_view({"get": "list"}), name="issue-candidates"
    ),
    re_path(
        rf"{CANDIDATE}/shortlist/$",
        CandidateViewSet.as_view({"post": "shortlist"}),
        name="issue-candidate-shortlist",
    ),
    re_path(
        rf"{CANDIDATE}/reject/$", CandidateViewSet.as_view({"post": "reject"}), name="issue-candidate-reject"
    ),
    re_path(
        rf"{CANDIDATE}/reset/$", CandidateViewSet.as_view({"post": "reset"}), name="issue-candidate-reset"
    ),
    re_path(rf"{CANDIDATE}/vote/$", CandidateViewSet.as_view({"post": "vote"}), name="issue-candidate-vote"),
    re_path(rf"{CANDIDATE}/undo/$", CandidateViewSet.as_view({"post": "undo"}), name="issue-candidate-undo"),
]
