"""A published issue's picks, previous/next links and JSON-LD are rendered once per publication
version, stored, and rendered again once a change readers would see replaces the version.

The page cache is off in these tests: they look at the stored rendering
(issues/issue_page.py) underneath it.
"""

import pytest

from issues import issue_page
from issues.editing import remove_pick, reorder_picks, save_issue, update_pick
from issues.figures import add_figure
from issues.models import Issue, IssuePage
from issues.publishing import publish_issue
from papers.ingest import import_entries
from tests.conftest import make_issue, make_publisher, make_record, png_file

pytestmark = [pytest.mark.django_db]

SENTINEL = "<p>the stored copy</p>"


@pytest.fixture(autouse=True)
def no_page_cache(settings):
    settings.PUBLIC_PAGE_CACHE = False


@pytest.fixture
def issue():
    return make_issue(slug="stored", picks=3, status="published")


def page(client, issue):
    response = client.get(issue.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def mark_stored_copy(issue):
    """Replace the stored rendering by a sentinel, keeping its version: shown only while it is current."""
    assert IssuePage.objects.filter(issue=issue).update(body_html=SENTINEL) == 1


def test_the_first_reader_stores_the_picks_and_later_readers_get_the_stored_copy(client, issue):
    html = page(client, issue)
    stored = IssuePage.objects.get(issue=issue)
    assert stored.version and stored.body_html in html
    assert '<script type="application/ld+json">' in stored.jsonld and stored.jsonld in html

    mark_stored_copy(issue)
    assert SENTINEL in page(client, issue)
    # The home page shows the same issue and reads the same copy.
    assert SENTINEL in client.get("/").content.decode()


def test_a_stored_page_is_byte_for_byte_the_live_rendering(client, editor, issue):
    first = page(client, issue)
    # A second reader gets the stored copy; staff at the address, of a published issue, too.
    assert page(client, issue) == first
    client.force_login(editor)
    assert page(client, issue) == first


def test_the_previous_and_next_links_are_stored_and_follow_publication(client, issue):
    html = page(client, issue)
    assert 'rel="next"' not in html
    newer = make_issue(slug="newer", picks=1)
    publish_issue(newer, by=make_publisher())
    assert f'rel="next" href="{newer.get_absolute_url()}"' in page(client, issue)
    assert f'rel="next" href="{newer.get_absolute_url()}"' in IssuePage.objects.get(issue=issue).nav_html


def edit_commentary(issue):
    pick = issue.picks.get(position=2)
    update_pick(
        pick,
        by=make_publisher(),
        data={"why": "A **new** reason to read it."},
        lock_version=pick.lock_version,
    )
    return "A <strong>new</strong> reason to read it."


def reorder(issue):
    picks = list(issue.picks.order_by("position"))
    reorder_picks(issue, [picks[2].pk, picks[0].pk, picks[1].pk], by=make_publisher())
    return f'<h2><span class="pick-number">1.</span> <a href="{picks[2].paper.abs_url}">'


def add_a_figure(issue):
    add_figure(issue.picks.get(position=1), by=make_publisher(), image=png_file(), alt_text="A loss curve")
    return 'alt="A loss curve"'


def arxiv_updates_a_picked_paper(issue):
    paper = issue.picks.get(position=1).paper
    import_entries([make_record(paper.arxiv_id, version=2, title=paper.title)])
    return "arXiv now has version 2"


def correct_the_intro_with_a_citation(issue):
    save_issue(
        issue,
        by=make_publisher(),
        data={"intro": "New opening words[^a].\n\n[^a]: A reference."},
        lock_version=issue.lock_version,
    )
    return "New opening words"


@pytest.mark.parametrize(
    "change",
    [edit_commentary, reorder, add_a_figure, arxiv_updates_a_picked_paper, correct_the_intro_with_a_citation],
)
def test_every_change_readers_would_see_renders_the_picks_again(client, issue, change):
    page(client, issue)
    mark_stored_copy(issue)
    expected = change(Issue.objects.get(pk=issue.pk))
    html = page(client, issue)
    assert SENTINEL not in html
    assert expected in html
    # …and the new rendering is stored in turn.
    assert expected in IssuePage.objects.get(issue=issue).body_html


def test_a_removed_pick_leaves_the_page(client, issue):
    page(client, issue)
    mark_stored_copy(issue)
    gone = issue.picks.get(position=3)
    remove_pick(gone, by=make_publisher())
    html = page(client, issue)
    assert SENTINEL not in html
    assert html.count('class="pick"') == 2 and gone.title not in html


def test_an_edited_template_renders_again(client, issue, monkeypatch):
    # A release also runs migrate, which replaces the version; in development nobody does.
    page(client, issue)
    mark_stored_copy(issue)
    monkeypatch.setattr(issue_page, "_code_stamp", lambda: "another template")
    assert SENTINEL not in page(client, issue)


def test_drafts_are_never_stored(client, editor):
    draft = make_issue(slug="draft", picks=2, status="draft")
    client.force_login(editor)
    html = page(client, draft)
    assert "Preview: this issue is draft" in html and html.count('class="pick"') == 2
    assert not IssuePage.objects.filter(issue=draft).exists()
