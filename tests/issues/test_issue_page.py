import pytest
from django.test import override_settings
from django.urls import reverse

from tests.conftest import make_issue

pytestmark = pytest.mark.django_db


def test_issue_page_shows_the_issue_in_order(client):
    issue = make_issue(picks=3, status="published", intro="Hello **readers**.")
    response = client.get(reverse("issues:issue", args=[issue.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>March 2021</h1>" in html
    assert "A test issue" in html
    assert "Hello <strong>readers</strong>." in html
    positions = [html.index(f'id="pick-{n}"') for n in (1, 2, 3)]
    assert positions == sorted(positions)
    pick = issue.picks.get(position=1)
    assert f'href="https://arxiv.org/abs/{pick.paper.arxiv_id}"' in html
    assert "Why number 1." in html and "Insight number 1." in html


def test_byline_of_authors_reads_a_b_and_c(client):
    issue = make_issue(picks=1, status="published")
    html = client.get(issue.get_absolute_url()).content.decode()
    assert ">Shared Author</a>." in html
    assert "</a>, and <a" in html


def test_home_shows_the_latest_published_issue(client):
    make_issue(slug="old", picks=1, status="published")
    latest = make_issue(slug="new", picks=1, status="published")
    make_issue(slug="newer-draft", picks=1)
    html = client.get("/").content.decode()
    assert latest.title in html
    assert "Newer Draft" not in html


@pytest.mark.parametrize("status", ["draft", "review", "scheduled"])
def test_unpublished_issue_is_404(client, status):
    issue = make_issue(slug="secret", picks=1, status=status)
    assert client.get(issue.get_absolute_url()).status_code == 404
    assert "Secret" not in client.get("/").content.decode()


@pytest.mark.parametrize("picks", [1, 10])
def test_issue_page_query_count_does_not_grow_with_picks(client, django_assert_num_queries, picks):
    issue = make_issue(picks=picks, status="published")
    # First reader: 1 the publication version, 2 the issue with its stored page (none yet),
    # 3 the issue with its neighbours, 4 its picks with papers, 5 the authorships with authors,
    # 6 the figures, 7 storing the rendered picks for this version
    with django_assert_num_queries(7):
        response = client.get(issue.get_absolute_url())
    assert response.content.decode().count('class="pick"') == picks
    # Every later reader without the page cache: 1 the version, 2 the issue with its stored picks
    with override_settings(PUBLIC_PAGE_CACHE=False), django_assert_num_queries(2):
        again = client.get(issue.get_absolute_url())
    assert again.content == response.content
    # With it: 1 the version
    with django_assert_num_queries(1):
        assert client.get(issue.get_absolute_url()).content == response.content
