"""The composing pages without a browser: the abstract beside the commentary, confirmations, the favicon."""

import pytest

from issues.editing import add_pick, update_pick
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


@pytest.fixture
def pick(editor):
    issue = make_issue(picks=0)
    return add_pick(issue, make_paper(abstract="We show that a small model reads well."), by=editor, why="W")


def test_pick_page_shows_the_paper_abstract(client, editor, pick):
    client.force_login(editor)
    html = client.get(f"/admin/issues/pick/{pick.pk}/change/").content.decode()
    assert '<details class="compose-abstract" id="paper-abstract" open>' in html
    assert "We show that a small model reads well." in html
    assert html.index('id="paper-abstract"') < html.index('id="id_why"')


def test_saving_a_pick_says_so_on_the_issue_page(client, editor, pick):
    client.force_login(editor)
    data = {
        "paper_title": pick.paper_title,
        "paper_version": pick.paper_version,
        "why": "A better why.",
        "key_insights": "K",
        "code_url": "",
        "demo_url": "",
        "edit_lock": pick.lock_version,
        "figures-TOTAL_FORMS": 0,
        "figures-INITIAL_FORMS": 0,
        "_save": "Save",
    }
    response = client.post(f"/admin/issues/pick/{pick.pk}/change/", data, follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/issues/issue/{pick.issue_id}/change/"
    assert f"Saved pick 1, “{pick.title}”." in response.content.decode()


def test_publish_now_back_to_draft_and_restore_ask_first(client, editor, pick):
    client.force_login(editor)
    page = client.get(f"/admin/issues/issue/{pick.issue_id}/change/").content.decode()
    assert 'id="publish-now" data-confirm="Publish “March 2021” now?' in page
    update_pick(pick, by=editor, data={"why": "W2"}, lock_version=pick.lock_version)
    history = client.get(f"/admin/issues/issue/{pick.issue_id}/revisions/").content.decode()
    assert 'class="button compose-restore" data-confirm="Restore the text of ' in history
    assert "js/compose.js" in history  # the script that asks


def test_favicon(client):
    page = client.get("/about/").content.decode()
    assert '<link rel="icon" href="/static/favicon.ico" sizes="32x32">' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/favicon.ico"
