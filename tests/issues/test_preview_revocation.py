"""Editors revoke every outstanding preview link of an issue at once; new links work again."""

import pytest
from django.core.exceptions import PermissionDenied

from issues.preview import make_preview_token, revoke_preview_links
from tests.conftest import make_issue

pytestmark = pytest.mark.django_db


def test_revoking_refuses_every_link_made_before_and_only_those(client, editor):
    issue = make_issue(slug="secret-draft", title="Secret Draft", picks=1)
    other = make_issue(slug="other-draft", title="Other Draft", picks=1)
    sent = [make_preview_token(issue, by=editor) for _ in range(2)]
    other_token = make_preview_token(other, by=editor)
    assert client.get(f"/preview/{sent[0]}/").status_code == 200

    revoke_preview_links(issue, by=editor)

    for token in sent:
        response = client.get(f"/preview/{token}/")
        assert response.status_code == 410
        page = response.content.decode()
        assert "revoked" in page and "Secret Draft" not in page
        assert "no-store" in response["Cache-Control"]
    # Another issue's links are untouched; a link made after the revocation works.
    assert client.get(f"/preview/{other_token}/").status_code == 200
    assert client.get(f"/preview/{make_preview_token(issue, by=editor)}/").status_code == 200


def test_only_editors_revoke(curator, editor):
    issue = make_issue(picks=1)
    token = make_preview_token(issue, by=editor)
    with pytest.raises(PermissionDenied):
        revoke_preview_links(issue, by=curator)
    issue.refresh_from_db()
    assert issue.preview_generation == 0
    assert token


def test_the_admin_button_revokes_with_a_message(client, editor):
    issue = make_issue(picks=1)
    token = make_preview_token(issue, by=editor)
    client.force_login(editor)
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert f"/admin/issues/issue/{issue.pk}/revoke-previews/" in page
    response = client.post(f"/admin/issues/issue/{issue.pk}/revoke-previews/", follow=True)
    assert response.status_code == 200
    assert "Every preview link of this issue sent so far no longer works" in response.content.decode()
    client.logout()
    assert client.get(f"/preview/{token}/").status_code == 410
    # A GET changes nothing.
    client.force_login(editor)
    assert client.get(f"/admin/issues/issue/{issue.pk}/revoke-previews/").status_code == 405
