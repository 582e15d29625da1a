"""The preview banner says what the page is, once, in words — to the editor and to whoever got the link."""

import re

import pytest

from issues.preview import make_preview_token
from tests.conftest import make_issue

pytestmark = pytest.mark.django_db


def _banner(html):
    return re.search(r'<div class="draft-banner" role="status">(.*?)</div>', html, re.S).group(1)


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("draft", "Draft preview — this issue is a draft, not published yet."),
        ("review", "Draft preview — this issue is in review, not published yet."),
        ("scheduled", "Draft preview — this issue is scheduled, not published yet."),
    ],
)
def test_a_shared_preview_link_names_the_state_once_and_does_not_scold(client, editor, status, says):
    issue = make_issue(picks=1, status=status)
    html = client.get(f"/preview/{make_preview_token(issue, by=editor)}/").content.decode()
    assert _banner(html) == says
    assert "(draft)" not in html and "share" not in _banner(html)


def test_the_live_preview_of_a_published_issue_says_readers_see_the_saved_one(client, editor):
    issue = make_issue(picks=1, status="published")
    client.force_login(editor)
    html = client.post(
        f"/admin/issues/issue/{issue.pk}/preview/", {"title": "T", "intro": "New."}
    ).content.decode()
    assert _banner(html) == (
        "Preview — this issue is published; readers see the saved version, not this one · unsaved changes."
    )
