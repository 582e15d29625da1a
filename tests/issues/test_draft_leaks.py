"""The draft-leak matrix: every public surface × every unpublished state.

A draft, an issue in review and a scheduled issue each hold a paper and an
author that appear nowhere else, and a word no published text contains. None
of them may show on any page, feed, sitemap or search — even when the issue
was published once and went back (``published_at`` set, newest of all).
Only staff may open the issue's own address, as a preview.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from issues.models import Issue, Pick
from issues.publishing import schedule_issue, submit_for_review
from papers.models import Author
from tests.conftest import make_issue, make_paper, make_publisher

pytestmark = pytest.mark.django_db

SECRET_WORD = "quokkaformer"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
UNPUBLISHED = ["draft", "review", "scheduled"]


@pytest.fixture
def public_issue():
    issue = make_issue(slug="public-issue", picks=2, status="published")
    Issue.objects.filter(pk=issue.pk).update(published_at=datetime(2021, 4, 1, tzinfo=UTC))
    return Issue.objects.get(pk=issue.pk)


def make_secret(status, *, was_published):
    issue = make_issue(
        slug=f"secret-{status}",
        title=f"Secret {status} issue",
        intro=f"The {SECRET_WORD} intro.",
    )
    paper = make_paper(
        title=f"The {SECRET_WORD} paper",
        authors=[("Hidden Person", "")],
        categories=["cs.LG"],
    )
    Pick.objects.create(issue=issue, paper=paper, position=1, why=f"{SECRET_WORD} matters.", key_insights="x")
    if status == "review":
        issue = submit_for_review(issue, by=make_publisher())
    elif status == "scheduled":
        issue = schedule_issue(issue, by=make_publisher(), publish_at=timezone.now() + timedelta(days=1))
    if was_published:
        # Published once, newer than everything, then sent back.
        Issue.objects.filter(pk=issue.pk).update(published_at=datetime(2022, 1, 1, tzinfo=UTC))
    return issue, paper, Author.objects.get(name="Hidden Person")


def assert_absent(client, url, *needles):
    response = client.get(url)
    assert response.status_code in (200, 404), url
    body = response.content.decode()
    for needle in needles:
        assert needle not in body, f"{needle!r} leaked on {url}"


@pytest.mark.parametrize("was_published", [False, True], ids=["never-published", "unpublished"])
@pytest.mark.parametrize("status", UNPUBLISHED)
@pytest.mark.parametrize("persona", ["anonymous", "reader"])
def test_unpublished_issue_is_invisible_on_every_surface(
    client, request, public_issue, status, was_published, persona
):
    if persona == "reader":
        client.force_login(request.getfixturevalue("reader"), backend=MODEL_BACKEND)
    issue, paper, author = make_secret(status, was_published=was_published)
    needles = (issue.slug, issue.title, SECRET_WORD, paper.arxiv_id, author.slug)

    # Its own pages: 404.
    assert client.get(issue.get_absolute_url()).status_code == 404
    assert client.get(paper.get_absolute_url()).status_code == 404
    assert client.get(author.get_absolute_url()).status_code == 404

    # Everywhere else: absent.
    for url in (
        "/",
        "/issues/",
        public_issue.get_absolute_url(),  # previous/next links
        "/feeds/atom.xml",
        "/feeds/rss.xml",
        "/feeds/feed.json",
        "/sitemap.xml",
    ):
        assert_absent(client, url, *needles)
    # Search echoes the query, so look at the results themselves.
    for query in (SECRET_WORD, "Hidden Person", f"Secret {status}"):
        html = client.get("/search/", {"q": query}).content.decode()
        assert "0 results for" in html and 'class="result"' not in html, query
    # The home page still shows the published issue, not the newer secret one.
    assert "<h1>Public Issue</h1>" in client.get("/").content.decode()
    feed = json.loads(client.get("/feeds/feed.json").content)
    assert [item["url"] for item in feed["items"]] == ["http://127.0.0.1:8000/issues/public-issue/"]


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_staff_get_a_preview_that_is_never_cached_for_readers(client, editor, public_issue, status):
    issue, _, _ = make_secret(status, was_published=False)
    client.force_login(editor, backend=MODEL_BACKEND)
    response = client.get(issue.get_absolute_url())
    assert response.status_code == 200
    assert "Preview: this issue is" in response.content.decode()
    # Never kept by a shared cache (a CDN) either.
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    # The listing surfaces stay public-only, even for staff.
    assert SECRET_WORD not in client.get("/feeds/atom.xml").content.decode()
    client.logout()
    assert client.get(issue.get_absolute_url()).status_code == 404


def test_a_pick_in_a_published_issue_does_not_reveal_a_draft_pick_of_the_same_paper(client, public_issue):
    paper = public_issue.picks.get(position=1).paper
    draft = make_issue(slug="draft-with-shared-paper", title="Draft Sharing", status="draft")
    Pick.objects.create(issue=draft, paper=paper, position=1, why=f"{SECRET_WORD}!", key_insights="y")
    html = client.get(paper.get_absolute_url()).content.decode()
    assert "Public Issue" in html
    assert "Draft Sharing" not in html and SECRET_WORD not in html
