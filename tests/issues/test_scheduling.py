"""Scheduled publishing: due issues go out by themselves, exactly once."""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from issues import tasks
from issues.models import Issue, Pick, Revision
from issues.publishing import publish_due_issues
from tests.conftest import make_issue


def test_beat_runs_the_publisher_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["publish-due-issues"]
    assert entry["task"] == "issues.tasks.publish_due_issues" and entry["schedule"] == 60.0


@pytest.mark.django_db
def test_due_issue_is_published_and_future_one_waits():
    due = make_issue(
        slug="due", picks=1, status="scheduled", publish_at=timezone.now() + timedelta(minutes=5)
    )
    later = make_issue(
        slug="later", picks=1, status="scheduled", publish_at=timezone.now() + timedelta(days=1)
    )
    published, failed = publish_due_issues(now=timezone.now() + timedelta(minutes=6))
    assert published == [due] and failed == []
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.status == "published" and due.published_at is not None
    assert later.status == "scheduled"
    assert list(Issue.objects.published()) == [due]


@pytest.mark.django_db
def test_task_publishes_due_issues():
    issue = make_issue(picks=1, status="scheduled", publish_at=timezone.now() + timedelta(seconds=1))
    Issue.objects.filter(pk=issue.pk).update(publish_at=timezone.now() - timedelta(seconds=1))
    result = tasks.publish_due_issues.apply().get()  # in-process: no worker in tests
    assert result == {"published": [issue.pk], "failed": []}
    assert Issue.objects.published().get() == issue


@pytest.mark.django_db
def test_a_failure_is_kept_for_the_admin_and_the_issue_stays_scheduled():
    issue = make_issue(picks=1, status="scheduled")
    Pick.objects.filter(issue=issue).update(why="")  # broken after scheduling
    published, failed = publish_due_issues(now=timezone.now() + timedelta(days=2))
    assert published == [] and failed == [issue]
    issue.refresh_from_db()
    assert issue.status == "scheduled"
    assert "has no “Why”" in issue.publish_error


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runners_publish_each_issue_exactly_once():
    issues = [
        make_issue(
            slug=f"due-{n}", picks=1, status="scheduled", publish_at=timezone.now() + timedelta(minutes=1)
        )
        for n in range(6)
    ]
    now = timezone.now() + timedelta(minutes=2)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def runner():
        try:
            barrier.wait()
            published, _failed = publish_due_issues(now=now)
            results.append([i.pk for i in published])
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    all_published = results[0] + results[1]
    assert sorted(all_published) == sorted(i.pk for i in issues)  # each once, none twice
    assert Issue.objects.published().count() == 6
    # One "published" entry per issue in its history.
    assert Revision.objects.filter(comment="published on schedule").count() == 6
