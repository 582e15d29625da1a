"""Issue state transitions: the one place an issue changes status.

draft → in review → scheduled → published, and back to draft by an editor.
The admin, the API and the scheduler all call these functions; each is
atomic, locks the issue row, checks the caller's role itself (not only the
buttons a template shows) and returns the updated issue.
"""

import logging
from datetime import UTC, timedelta

from django.db import connection, transaction
from django.utils import timezone

from curation.roles import require_curator, require_editor

from .heartbeat import record_scheduler_run
from .markdown import footnote_problems
from .models import Issue, Revision
from .page_cache import bump_publication_version

log = logging.getLogger(__name__)


class TransitionError(Exception):
    """A transition refused for the issue's content or state; ``problems`` lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def publication_problems(issue):
    """Everything that stops ``issue`` from being published, in plain words (the readiness checklist)."""
    problems = []
    picks = list(issue.picks.select_related("paper").prefetch_related("figures").order_by("position"))
    if not picks:
        problems.append("The issue has no picks.")
    for pick in picks:
        label = f"Pick {pick.position} ({pick.paper.arxiv_id})"
        if not pick.why.strip():
            problems.append(f"{label} has no “Why”.")
        if not pick.key_insights.strip():
            problems.append(f"{label} has no “Key insights”.")
        for figure in pick.figures.all():
            if not figure.alt_text.strip():
                problems.append(f"{label} has a figure without alt text.")
    # Rendering in memory only: the stored HTML is not touched by a check.
    problems.extend(footnote_problems(Issue(pk=issue.pk, intro=issue.intro, outro=issue.outro), picks))
    if not issue.slug:
        problems.append("The issue has no slug.")
    elif Issue.objects.filter(slug=issue.slug).exclude(pk=issue.pk).exists():
        problems.append(f"The slug “{issue.slug}” is used by another issue.")
    return problems


def _locked(issue):
    return Issue.objects.select_for_update().get(pk=issue.pk)


def _record(issue, user, comment):
    """A transition is part of the issue's history too."""
    Revision.objects.create(
        issue=issue,
        object_type="issue",
        object_id=issue.pk,
        data={
            "status": issue.status,
            "publish_at": issue.publish_at.isoformat() if issue.publish_at else None,
        },
        changed_fields=["status"],
        comment=comment,
        lock_version=issue.lock_version,
        user=user,
    )


@transaction.atomic
def submit_for_review(issue, *, by):
    """Draft → in review. Curators and editors."""
    require_curator(by, "submit an issue")
    issue = _locked(issue)
    if issue.status == Issue.Status.REVIEW:
        return issue
    if issue.status != Issue.Status.DRAFT:
        raise TransitionError(
            [f"Only a draft can be submitted for review; this issue is {issue.get_status_display()}."]
        )
    issue.status = Issue.Status.REVIEW
    issue.save(update_fields=["status"])
    _record(issue, by, "submitted for review")
    return issue


# How far ahead an issue may be scheduled. Further is a typo (a year 9999 once made every
# admin page 500 for a time zone east of UTC, past the calendar's end).
SCHEDULE_HORIZON_YEARS = 5


def schedule_horizon(now=None):
    return (now or timezone.now()) + timedelta(days=365 * SCHEDULE_HORIZON_YEARS + 1)


@transaction.atomic
def schedule_issue(issue, *, by, publish_at):
    """Draft or in review → scheduled for ``publish_at``. Editors; refused unless ready to publish."""
    require_editor(by, "schedule an issue")
    issue = _locked(issue)
    problems = []
    if issue.status == Issue.Status.PUBLISHED:
        problems.append("The issue is already published.")
    if publish_at is None:
        problems.append("Choose when the issue goes out.")
    elif publish_at > schedule_horizon():
        # Named in UTC: the editor's own zone may not reach that far (OverflowError).
        problems.append(
            f"An issue can be scheduled at most {SCHEDULE_HORIZON_YEARS} years ahead; "
            f"{publish_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC is further. Check the year."
        )
    elif publish_at <= timezone.now():
        # Accepting it would publish within the minute, unannounced: ask instead.
        try:
            when = timezone.localtime(publish_at)
        except OverflowError:  # the year 1 in a zone west of UTC
            when = publish_at.astimezone(UTC)
        problems.append(
            f"{when.day} {when:%B %Y, %H:%M} {when.tzname()} has already passed. "
            "To publish the issue now, use “Publish now”; to schedule it, choose a later time."
        )
    problems.extend(publication_problems(issue))
    if problems:
        raise TransitionError(problems)
    issue.status = Issue.Status.SCHEDULED
    issue.publish_at = publish_at
    issue.publish_error = ""
    issue.save(update_fields=["status", "publish_at", "publish_error"])
    _record(issue, by, f"scheduled for {publish_at.isoformat()}")
    return issue


def _publish_locked(issue, now, by, comment):
    problems = publication_problems(issue)
    if problems:
        raise TransitionError(problems)
    issue.status = Issue.Status.PUBLISHED
    if issue.published_at is None:
        issue.published_at = now
    issue.updated_at = max(now, issue.published_at)
    issue.publish_error = ""
    issue.save(update_fields=["status", "published_at", "updated_at", "publish_error"])
    _record(issue, by, comment)
    bump_publication_version()
    return issue


@transaction.atomic
def publish_issue(issue, *, by, at=None):
    """Publish ``issue`` now (or ``at``). Editors only; refused with every problem listed."""
    require_editor(by, "publish an issue")
    issue = _locked(issue)
    if issue.status == Issue.Status.PUBLISHED:
        return issue
    return _publish_locked(issue, at or timezone.now(), by, "published")


@transaction.atomic
def unpublish_issue(issue, *, by):
    """Published or scheduled → draft. Editors only. ``published_at`` is kept: it is set once."""
    require_editor(by, "unpublish an issue")
    issue = _locked(issue)
    if issue.status not in (Issue.Status.PUBLISHED, Issue.Status.SCHEDULED):
        raise TransitionError(
            [
                f"Only a published or scheduled issue can go back to draft; this one is {issue.get_status_display()}."
            ]
        )
    was_public = issue.status == Issue.Status.PUBLISHED
    issue.status = Issue.Status.DRAFT
    issue.publish_at = None
    issue.save(update_fields=["status", "publish_at"])
    _record(issue, by, "back to draft")
    if was_public:
        bump_publication_version()
    return issue


def _next_due(now, skip):
    """Lock the next due issue nobody else is publishing; None when there is none.

    ``skip_locked`` makes a second worker or beat step over the row the first
    one holds instead of waiting and publishing it again; SQLite has no row
    locks (and a single writer), so it simply runs the query.
    """
    due = Issue.objects.filter(status=Issue.Status.SCHEDULED, publish_at__lte=now).exclude(pk__in=skip)
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    return due.order_by("publish_at", "pk").first()


def publish_due_issues(now=None):
    """Publish every scheduled issue whose time has come. Returns (published, failed) issue lists.

    Each issue is published in its own transaction under a row lock, and its
    status is checked again under the lock, so two concurrent runners publish
    each issue exactly once. A refused issue stays scheduled with the reason
    in ``publish_error`` for the admin to show. Every run, even one that finds
    nothing due, records its heartbeat for the admin (issues/heartbeat.py).
    """
    now = now or timezone.now()
    published, failed, tried = [], [], []
    while True:
        with transaction.atomic():
            issue = _next_due(now, tried)
            if issue is None:
                break
            tried.append(issue.pk)
            try:
                with transaction.atomic():
                    _publish_locked(issue, now, issue.editor, "published on schedule")
                published.append(issue)
            except TransitionError as error:
                issue.publish_error = f"Scheduled publication at {now:%Y-%m-%d %H:%M %Z} failed: {error}"
                issue.save(update_fields=["publish_error"])
                log.warning("Scheduled issue %s not published: %s", issue.pk, error)
                failed.append(issue)
    record_scheduler_run(published=len(published), failed=len(failed))
    return published, failed
