"""Scheduled publishing: due issues go out by themselves, exactly once."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from curation.scheduler import InProcessBeat, beat_entries
from issues import tasks
from issues.heartbeat import scheduler_status
from issues.models import Issue, Pick, Revision, SchedulerHeartbeat
from issues.publishing import TransitionError, publish_due_issues, schedule_issue
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


# The scheduler's heartbeat and the admin ----------------------------------------


@pytest.mark.django_db
def test_every_run_records_its_heartbeat_even_with_nothing_due():
    assert not SchedulerHeartbeat.objects.exists()
    publish_due_issues()
    beat = SchedulerHeartbeat.objects.get()
    assert (beat.job, beat.published, beat.failed) == ("publish-due-issues", 0, 0)
    assert timezone.now() - beat.last_run_at < timedelta(seconds=5)
    make_issue(picks=1, status="scheduled", publish_at=timezone.now() + timedelta(minutes=1))
    publish_due_issues(now=timezone.now() + timedelta(minutes=2))
    assert SchedulerHeartbeat.objects.get().published == 1  # still one row, rewritten


@pytest.mark.django_db
def test_admin_shows_when_the_scheduler_last_ran(client, editor):
    issue = make_issue(picks=1)
    client.force_login(editor)
    publish_due_issues()
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert 'id="scheduler-status" class="help"' in page
    assert "The scheduler last ran less than a minute ago" in page
    # The issue list says nothing while the scheduler runs.
    assert "scheduler" not in client.get("/admin/issues/issue/").content.decode()


@pytest.mark.django_db
def test_admin_warns_when_the_scheduler_has_stopped(client, editor):
    issue = make_issue(picks=1)
    client.force_login(editor)
    never = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert 'id="scheduler-status" class="errornote"' in never
    assert "The scheduler has never run: scheduled issues will not go out by themselves." in never

    publish_due_issues()
    SchedulerHeartbeat.objects.update(last_run_at=timezone.now() - timedelta(minutes=12))
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert "The scheduler has not run since" in page and "(12\xa0minutes ago)" in page
    listing = client.get("/admin/issues/issue/").content.decode()
    assert "The scheduler has not run since" in listing  # a warning on the issue list too


@pytest.mark.django_db
def test_the_stale_warning_comes_after_a_few_minutes(settings):
    settings.SCHEDULER_STALE_AFTER = 300
    publish_due_issues()
    assert not scheduler_status(now=timezone.now() + timedelta(minutes=4)).stale
    assert scheduler_status(now=timezone.now() + timedelta(minutes=6)).stale


# Scheduling in the past, and overdue issues -------------------------------------


@pytest.mark.django_db
def test_scheduling_a_past_time_is_refused_and_asks_to_publish_now(editor):
    issue = make_issue(picks=1)
    with pytest.raises(TransitionError) as refused:
        schedule_issue(issue, by=editor, publish_at=datetime(2020, 1, 1, 9, 0, tzinfo=UTC))
    assert refused.value.problems == [
        "1 January 2020, 09:00 UTC has already passed. "
        "To publish the issue now, use “Publish now”; to schedule it, choose a later time."
    ]
    issue.refresh_from_db()
    assert (issue.status, issue.publish_at) == ("draft", None)


@pytest.mark.django_db
def test_admin_schedule_in_the_past_says_so_and_keeps_the_issue_unscheduled(client, editor):
    issue = make_issue(picks=1)
    client.force_login(editor)
    response = client.post(
        f"/admin/issues/issue/{issue.pk}/transition/schedule/",
        {"publish_at_input": "2020-01-01T09:00"},
        follow=True,
    )
    page = response.content.decode()
    assert "1 January 2020, 09:00 UTC has already passed" in page
    assert "use “Publish now”" in page
    assert Issue.objects.get(pk=issue.pk).status == "draft"


@pytest.mark.django_db
def test_an_overdue_issue_says_so_in_the_admin(client, editor):
    issue = make_issue(picks=1, status="scheduled")
    Issue.objects.filter(pk=issue.pk).update(publish_at=datetime(2020, 1, 1, 9, 0, tzinfo=UTC))
    client.force_login(editor)
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert "scheduled for 1 January 2020, 09:00 UTC — overdue: not published yet" in page


@pytest.mark.django_db
def test_a_future_issue_is_not_overdue(client, editor):
    when = (timezone.now() + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
    issue = make_issue(picks=1, status="scheduled", publish_at=when)
    client.force_login(editor)
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert f"scheduled for {when.day} {when:%B %Y}, 09:00 UTC</span>" in page and "overdue" not in page


# Who runs it: Celery beat with a broker, the web process without one ------------


def test_without_a_broker_the_web_process_runs_the_publisher(settings):
    if settings.CELERY_BROKER_URL:
        assert settings.IN_PROCESS_BEAT == []  # beat does it
    else:
        assert settings.IN_PROCESS_BEAT == ["publish-due-issues"]
    assert beat_entries(["publish-due-issues"]) == {
        "publish-due-issues": ("issues.tasks.publish_due_issues", 60.0)
    }


@pytest.mark.django_db(transaction=True)
def test_in_process_beat_publishes_a_due_issue_at_once():
    issue = make_issue(picks=1, status="scheduled", publish_at=timezone.now() + timedelta(minutes=1))
    Issue.objects.filter(pk=issue.pk).update(publish_at=timezone.now() - timedelta(minutes=1))
    beat = InProcessBeat(beat_entries(["publish-due-issues"]))
    beat.start()
    try:
        deadline = time.monotonic() + 20
        while Issue.objects.get(pk=issue.pk).status != "published" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        beat.stop()
        beat.join(10)
    assert Issue.objects.published().get() == issue
    assert SchedulerHeartbeat.objects.get().published == 1
    assert not beat.is_alive()


@pytest.mark.django_db
def test_the_year_one_is_refused_plainly_in_any_time_zone(client, editor, settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    issue = make_issue(picks=1)
    client.force_login(editor)
    response = client.post(
        f"/admin/issues/issue/{issue.pk}/transition/schedule/",
        {"publish_at_input": "0001-01-01T00:00"},
        follow=True,
    )
    assert response.status_code == 200
    assert "has already passed" in response.content.decode()
