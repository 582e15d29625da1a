"""Roles are checked in the functions that change state, not only by hiding buttons."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from issues.editing import add_pick, save_issue, update_pick
from issues.preview import make_preview_token
from issues.publishing import publish_issue, schedule_issue, submit_for_review, unpublish_issue
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def test_a_curator_calling_publish_is_refused(curator):
    issue = make_issue(picks=1)
    with pytest.raises(PermissionDenied, match="Only editors can publish"):
        publish_issue(issue, by=curator)
    issue.refresh_from_db()
    assert issue.status == "draft"


@pytest.mark.parametrize(
    "transition",
    [
        lambda issue, user: schedule_issue(issue, by=user, publish_at=timezone.now() + timedelta(days=1)),
        lambda issue, user: unpublish_issue(issue, by=user),
        lambda issue, user: make_preview_token(issue, by=user),
    ],
    ids=["schedule", "unpublish", "preview-link"],
)
def test_editor_only_transitions_refuse_curators(curator, transition):
    issue = make_issue(picks=1, status="published")
    with pytest.raises(PermissionDenied):
        transition(issue, curator)


def test_curators_draft_and_submit(curator):
    issue = make_issue()
    pick = add_pick(issue, make_paper(), by=curator, why="Because.")
    update_pick(pick, by=curator, data={"key_insights": "These."}, lock_version=pick.lock_version)
    issue = submit_for_review(issue, by=curator)
    assert issue.status == "review"


def test_curators_cannot_correct_a_published_issue_editors_can(curator, editor):
    issue = make_issue(picks=1, status="published")
    with pytest.raises(PermissionDenied):
        save_issue(issue, by=curator, data={"title": "Hijacked"}, lock_version=issue.lock_version)
    issue = save_issue(issue, by=editor, data={"title": "Fixed"}, lock_version=issue.lock_version)
    assert issue.title == "Fixed"


def test_readers_and_anonymous_cannot_do_anything(reader):
    issue = make_issue(picks=1)
    for user in (reader, None):
        with pytest.raises(PermissionDenied):
            submit_for_review(issue, by=user)
        with pytest.raises(PermissionDenied):
            save_issue(issue, by=user, data={"title": "x"}, lock_version=issue.lock_version)


def test_admin_publish_button_is_refused_for_a_curator(client, curator):
    issue = make_issue(picks=1)
    client.force_login(curator)
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert "Publish now" not in page and "Submit for review" in page
    response = client.post(f"/admin/issues/issue/{issue.pk}/transition/publish/", follow=True)
    assert "Only editors can publish an issue." in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == "draft"


def test_admin_publish_shows_every_problem(client, editor):
    issue = make_issue(picks=0)
    client.force_login(editor)
    response = client.post(f"/admin/issues/issue/{issue.pk}/transition/publish/", follow=True)
    assert "The issue has no picks." in response.content.decode()
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert "Ready to publish?" in page and "The issue has no picks." in page


def test_admin_schedule_shows_when_with_time_zone(client, editor, settings):
    issue = make_issue(picks=1)
    client.force_login(editor)
    client.post(
        f"/admin/issues/issue/{issue.pk}/transition/schedule/", {"publish_at_input": "2030-04-06T09:00"}
    )
    issue.refresh_from_db()
    assert issue.status == "scheduled"
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert "scheduled for 6 April 2030, 09:00 UTC" in page


def test_curator_cannot_change_a_published_issue_in_the_admin(client, curator):
    issue = make_issue(picks=1, status="published")
    client.force_login(curator)
    response = client.post(
        f"/admin/issues/issue/{issue.pk}/change/",
        {
            "title": "Hijacked",
            "period_start": "2021-03-01",
            "period_end": "2021-03-31",
            "edit_lock": issue.lock_version,
        },
    )
    assert response.status_code == 403
    issue.refresh_from_db()
    assert issue.title != "Hijacked"
