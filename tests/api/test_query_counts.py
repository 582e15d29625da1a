"""Every list and detail endpoint costs a fixed number of queries, whatever the number of rows.

Anonymous reads of issues and picks first read the publication version their
shared-cache entry is keyed by (issues/page_cache.py); these tests measure the
miss, where the view then reads the rows.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from issues.models import Figure
from tests.conftest import make_issue, make_paper
from triage.models import PaperScore, RankerModel

pytestmark = pytest.mark.django_db


def _with_figures(issue):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    for pick in issue.picks.all():
        Figure.objects.create(
            pick=pick, image=SimpleUploadedFile("f.png", buffer.getvalue()), alt_text="A figure"
        )
    return issue


@pytest.fixture(params=[1, 10], ids=["1-pick", "10-picks"])
def issue(request, db):
    return _with_figures(make_issue("march-2021", picks=request.param, status="published"))


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json()


def test_issue_list(anon, issue, django_assert_num_queries):
    # 1. the publication version  2. the published issues with their pick counts (no COUNT
    # for cursor pages)
    with django_assert_num_queries(2):
        _get(anon, "/api/v1/issues/")


def test_issue_detail(anon, issue, django_assert_num_queries):
    # 1. the publication version  2. the issue  3. its picks with their papers  4. the papers'
    # authors  5. figures
    with django_assert_num_queries(5):
        body = _get(anon, "/api/v1/issues/march-2021/")
    assert len(body["picks"]) == issue.picks.count()


def test_pick_list(anon, issue, django_assert_num_queries):
    # 1. the publication version  2. the picks with their issue and paper  3. authors  4. figures
    with django_assert_num_queries(4):
        body = _get(anon, "/api/v1/picks/?page_size=50")
    assert len(body["results"]) == issue.picks.count()


def test_pick_list_filtered(anon, issue, django_assert_num_queries):
    # The same four queries: filters are subqueries of the picks' query.
    with django_assert_num_queries(4):
        _get(anon, "/api/v1/picks/?category=cs.LG&has_code=false&year=2021&q=topic&author=shared-author")


def test_paper_list(anon, issue, django_assert_num_queries):
    # 1. the papers with a published pick  2. their authorships and authors
    with django_assert_num_queries(2):
        body = _get(anon, "/api/v1/papers/?page_size=50")
    assert len(body["results"]) == issue.picks.count()


def test_paper_detail(anon, issue, django_assert_num_queries):
    arxiv_id = issue.picks.first().paper.arxiv_id
    # 1. the paper  2. its authorships and authors  3. its published picks with their issues
    with django_assert_num_queries(3):
        _get(anon, f"/api/v1/papers/{arxiv_id}/")


def test_author_list(anon, issue, django_assert_num_queries):
    # 1. the authors of published picks
    with django_assert_num_queries(1):
        body = _get(anon, "/api/v1/authors/?page_size=50")
    assert len(body["results"]) == 2 * issue.picks.count() + 1


def test_author_detail(anon, issue, django_assert_num_queries):
    # 1. the author  2. their published picks with issues and papers
    with django_assert_num_queries(2):
        body = _get(anon, "/api/v1/authors/shared-author/")
    assert len(body["picks"]) == issue.picks.count()


def test_curator_pick_list(as_curator, issue, django_assert_num_queries):
    # 1. the token and its user  2. the caller's groups (read once for every role check)
    # 3. the issue  4. its picks with papers  5. authorships and authors  6. figures
    with django_assert_num_queries(6):
        body = _get(as_curator, "/api/v1/issues/march-2021/picks/")
    assert len(body) == issue.picks.count()


def test_candidate_list(as_curator, issue, django_assert_num_queries):
    ranker = RankerModel.objects.create(version=1)
    for n in range(issue.picks.count()):
        PaperScore.objects.create(paper=make_paper(), ranker=ranker, score=n / 10)
    # 1. token and user  2. the caller's groups (read once for every role check)  3. the issue
    # 4. the papers added to the queue by hand (Candidate.objects.for_issue)
    # 5. the ranked candidates with scores, states and votes  6. their authorships and authors
    with django_assert_num_queries(6):
        body = _get(as_curator, "/api/v1/issues/march-2021/candidates/?page_size=50")
    assert len(body["results"]) == issue.picks.count()
