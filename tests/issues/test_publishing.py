"""The issue states: draft → in review → scheduled → published, and back to draft."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from issues.editing import add_pick, save_issue, update_pick
from issues.models import Figure, Issue
from issues.publishing import (
    TransitionError,
    publication_problems,
    publish_issue,
    schedule_issue,
    submit_for_review,
    unpublish_issue,
)
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def test_draft_to_review_to_scheduled_to_published(editor, curator):
    issue = make_issue(picks=2)
    issue = submit_for_review(issue, by=curator)
    assert issue.status == "review"
    when = timezone.now() + timedelta(hours=2)
    issue = schedule_issue(issue, by=editor, publish_at=when)
    assert (issue.status, issue.publish_at) == ("scheduled", when)
    assert not Issue.objects.published().exists()
    issue = publish_issue(issue, by=editor)
    assert issue.status == "published" and issue.published_at is not None
    assert Issue.objects.published().get() == issue


def test_unpublish_returns_to_draft_and_hides_it(editor):
    issue = make_issue(picks=1, status="published")
    issue = unpublish_issue(issue, by=editor)
    assert issue.status == "draft"
    assert not Issue.objects.published().exists()


def test_published_at_is_set_once(editor):
    issue = make_issue(picks=1, status="published")
    first = issue.published_at
    unpublish_issue(issue, by=editor)
    later = timezone.now() + timedelta(days=3)
    issue = publish_issue(issue, by=editor, at=later)
    assert issue.published_at == first
    assert issue.updated_at == later


def test_correction_after_publication_bumps_updated_time(editor):
    issue = make_issue(picks=1, status="published", published_at=None)
    Issue.objects.filter(pk=issue.pk).update(
        published_at=timezone.now() - timedelta(days=2), updated_at=timezone.now() - timedelta(days=2)
    )
    issue.refresh_from_db()
    pick = issue.picks.get()
    update_pick(pick, by=editor, data={"why": "Fixed a typo."}, lock_version=pick.lock_version)
    issue.refresh_from_db()
    assert issue.was_corrected
    assert issue.published_at < issue.updated_at


def test_refused_with_the_complete_list_of_problems(editor):
    issue = make_issue(picks=0, slug="empty")
    with pytest.raises(TransitionError) as refused:
        publish_issue(issue, by=editor)
    assert refused.value.problems == ["The issue has no picks."]

    issue = make_issue(slug="incomplete", intro="Cites [^nobody].")
    pick = add_pick(issue, make_paper("2103.00001"), by=editor, why="", key_insights="")
    Figure.objects.create(pick=pick, image=SimpleUploadedFile("f.png", b"x"), alt_text="  ")
    with pytest.raises(TransitionError) as refused:
        publish_issue(issue, by=editor)
    assert refused.value.problems == [
        "Pick 1 (2103.00001) has no “Why”.",
        "Pick 1 (2103.00001) has no “Key insights”.",
        "Pick 1 (2103.00001) has a figure without alt text.",
        "The footnote [^nobody] is cited but never defined.",
    ]
    issue.refresh_from_db()
    assert issue.status == "draft" and issue.published_at is None


def test_slug_taken_is_a_problem(editor):
    issue = make_issue(picks=1, slug="taken")
    other = Issue(pk=issue.pk + 1000, slug="taken", intro="", outro="")
    assert "The slug “taken” is used by another issue." in publication_problems(other)


def test_scheduling_is_refused_when_not_ready(editor):
    issue = make_issue(picks=0)
    with pytest.raises(TransitionError) as refused:
        schedule_issue(issue, by=editor, publish_at=None)
    assert refused.value.problems == ["Choose when the issue goes out.", "The issue has no picks."]


def test_only_a_draft_goes_to_review(curator):
    issue = make_issue(picks=1, status="published")
    with pytest.raises(TransitionError):
        submit_for_review(issue, by=curator)


def test_unpublishing_a_draft_is_refused(editor):
    with pytest.raises(TransitionError):
        unpublish_issue(make_issue(), by=editor)


def test_slug_is_frozen_after_first_publication(editor):
    issue = make_issue(picks=1, status="published")
    unpublish_issue(issue, by=editor)
    issue.refresh_from_db()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        save_issue(issue, by=editor, data={"slug": "renamed"}, lock_version=issue.lock_version)
    assert "frozen" in str(refused.value)
    issue = save_issue(issue, by=editor, data={"title": "Renamed"}, lock_version=issue.lock_version)
    assert (issue.title, issue.slug) == ("Renamed", "march-2021")


def test_transitions_are_in_the_history(editor, curator):
    issue = make_issue(picks=1)
    submit_for_review(issue, by=curator)
    publish_issue(issue, by=editor)
    comments = list(issue.revisions.order_by("pk").values_list("comment", flat=True))
    assert comments[-2:] == ["submitted for review", "published"]
