"""Preview links: signed, expiring, never cached, never indexed; and the admin's live preview."""

import pytest
from django.core import signing

from issues import preview
from issues.editing import add_pick
from issues.preview import make_preview_token
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def _assert_private(response):
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]


def test_valid_link_shows_the_draft_with_a_banner(client, editor):
    issue = make_issue(slug="secret-draft", title="Secret Draft", picks=2)
    token = make_preview_token(issue, by=editor)
    response = client.get(f"/preview/{token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Secret Draft" in html and "Why number 2." in html
    assert 'class="draft-banner"' in html
    assert '<meta name="robots" content="noindex' in html
    _assert_private(response)
    # The public page still does not show it.
    assert client.get("/issues/secret-draft/").status_code == 404


def test_expired_link_is_gone(client, editor, monkeypatch):
    token = make_preview_token(make_issue(picks=1), by=editor)
    monkeypatch.setattr(preview, "MAX_AGE", -1)
    response = client.get(f"/preview/{token}/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    _assert_private(response)


def test_tampered_link_is_refused(client, editor):
    issue = make_issue(picks=1)
    other = make_issue(slug="other", picks=1)
    token = make_preview_token(issue, by=editor)
    forged = signing.dumps({"issue": other.pk}, salt="something-else")
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged, "not-a-token"):
        response = client.get(f"/preview/{bad}/")
        assert response.status_code == 404
        assert "Secret" not in response.content.decode()


def test_admin_live_preview_renders_unsaved_text_and_keeps_nothing(client, curator):
    issue = make_issue(picks=1, intro="Stored intro.")
    client.force_login(curator)
    response = client.post(
        f"/admin/issues/issue/{issue.pk}/preview/",
        {"title": "Unsaved title", "intro": "Unsaved *intro*[^n].\n\n[^n]: https://n.example N site"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Unsaved title" in html and "Unsaved <em>intro</em>" in html
    assert 'href="#ref-1"' in html and "N site" in html
    _assert_private(response)
    issue.refresh_from_db()
    assert issue.intro == "Stored intro." and "Unsaved" not in issue.intro_html


def test_admin_pick_preview(client, curator):
    issue = make_issue()
    pick = add_pick(issue, make_paper(), by=curator, why="Stored why.")
    client.force_login(curator)
    response = client.post(f"/admin/issues/issue/pick/{pick.pk}/preview/", {"why": "Draft **why**."})
    assert "Draft <strong>why</strong>." in response.content.decode()
    pick.refresh_from_db()
    assert pick.why == "Stored why."


def test_admin_creates_a_preview_link(client, editor):
    issue = make_issue(picks=1)
    client.force_login(editor)
    response = client.post(f"/admin/issues/issue/{issue.pk}/preview-link/", follow=True)
    link = response.content.decode().split('class="preview-link">')[1].split("<")[0]
    assert "/preview/" in link
    assert client.get(link).status_code == 200
