"""The issue page's buttons submit the whole form: what was typed is saved first, never thrown away."""

import pytest

from issues.models import Issue, Revision
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def _form(issue, **changes):
    """The issue form as the change page posts it with any of its buttons."""
    data = {
        "title": issue.title,
        "subtitle": issue.subtitle,
        "slug": issue.slug,
        "byline": issue.byline,
        "period_start": issue.period_start.isoformat(),
        "period_end": issue.period_end.isoformat(),
        "intro": issue.intro,
        "outro": issue.outro,
        "edit_lock": issue.lock_version,
        "publish_at_input": "",
    }
    data.update(changes)
    return data


def test_publish_now_refused_keeps_the_new_outro(client, editor):
    issue = make_issue(picks=0)  # not ready: no picks
    client.force_login(editor)
    response = client.post(
        f"/admin/issues/issue/{issue.pk}/transition/publish/",
        _form(issue, outro="A new outro, typed just now."),
        follow=True,
    )
    page = response.content.decode()
    assert "The issue has no picks." in page  # refused…
    issue.refresh_from_db()
    assert issue.status == "draft"
    assert issue.outro == "A new outro, typed just now."  # …but the text was saved first
    assert "A new outro, typed just now." in page
    assert "was changed successfully" in page
    assert Revision.objects.filter(object_type="issue", changed_fields=["outro"]).count() == 1


def test_publish_now_saves_then_publishes(client, editor):
    issue = make_issue(picks=1)
    client.force_login(editor)
    client.post(
        f"/admin/issues/issue/{issue.pk}/transition/publish/", _form(issue, subtitle="Final subtitle")
    )
    issue.refresh_from_db()
    assert (issue.status, issue.subtitle) == ("published", "Final subtitle")


@pytest.mark.parametrize("button", ["transition/submit/", "transition/schedule/", "preview-link/"])
def test_every_status_button_saves_the_typed_text(client, editor, button):
    issue = make_issue(picks=1)
    client.force_login(editor)
    client.post(f"/admin/issues/issue/{issue.pk}/{button}", _form(issue, intro="Typed intro."))
    assert Issue.objects.get(pk=issue.pk).intro == "Typed intro."


def test_pick_buttons_without_javascript_save_the_typed_text_too(client, editor):
    issue = make_issue(picks=2)
    first, second = issue.picks.order_by("position")
    client.force_login(editor)
    client.post(
        f"/admin/issues/issue/{issue.pk}/reorder/", _form(issue, intro="Typed 1.", move=f"{second.pk}:up")
    )
    issue.refresh_from_db()
    assert issue.intro == "Typed 1." and issue.picks.get(position=1) == second
    paper = make_paper()
    client.post(
        f"/admin/issues/issue/{issue.pk}/add-pick/", _form(issue, intro="Typed 2.", arxiv=paper.arxiv_id)
    )
    issue.refresh_from_db()
    assert issue.intro == "Typed 2." and issue.picks.count() == 3


def test_a_stale_form_is_not_lost_and_nothing_else_happens(client, editor, other_curator):
    issue = make_issue(picks=1)
    opened = _form(issue)
    client.force_login(other_curator)
    client.post(f"/admin/issues/issue/{issue.pk}/change/", {**opened, "intro": "Cora's intro."})
    client.force_login(editor)
    response = client.post(
        f"/admin/issues/issue/{issue.pk}/transition/publish/", {**opened, "outro": "Edna's outro."}
    )
    page = response.content.decode()
    assert response.status_code == 200  # the form again, not a redirect
    assert "cora saved this issue after you opened it" in page
    assert "Edna&#x27;s outro." in page  # her text, kept in the form
    assert "Nothing else was done: your changes to the issue could not be saved." in page
    # Saving again goes to the change page, not to "publish".
    assert f'action="/admin/issues/issue/{issue.pk}/change/"' in page
    issue.refresh_from_db()
    assert (issue.status, issue.intro, issue.outro) == ("draft", "Cora's intro.", "An outro.")


def test_unchanged_form_just_acts(client, editor):
    issue = make_issue(picks=1)
    client.force_login(editor)
    client.post(f"/admin/issues/issue/{issue.pk}/transition/submit/", _form(issue))
    issue.refresh_from_db()
    assert issue.status == "review" and issue.lock_version == 0  # no save, no revision of the text
