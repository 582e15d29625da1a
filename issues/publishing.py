"""Issue state transitions: the one place an issue changes status.

The admin, the API and the scheduler all call these functions; each is
atomic, locks the issue row, checks the caller's role itself (not only the
buttons a template shows) and returns the updated issue.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from .models import Issue

EDITORS_GROUP = "Editors"
CURATORS_GROUP = "Curators"


class TransitionError(Exception):
    """A transition refused for the issue's content; ``problems`` lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def is_editor(user):
    if user is None or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=EDITORS_GROUP).exists()


def is_curator(user):
    if user is None or not user.is_active:
        return False
    return is_editor(user) or user.groups.filter(name=CURATORS_GROUP).exists()


def require_editor(user, action):
    if not is_editor(user):
        raise PermissionDenied(f"Only editors can {action} an issue.")


def publication_problems(issue):
    """Everything that stops ``issue`` from being published, in plain words."""
    problems = []
    picks = list(issue.picks.select_related("paper").prefetch_related("figures"))
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
    if Issue.objects.filter(slug=issue.slug).exclude(pk=issue.pk).exists():
        problems.append(f"The slug “{issue.slug}” is used by another issue.")
    return problems


@transaction.atomic
def publish_issue(issue, *, by, at=None):
    """Publish ``issue`` (at ``at``, default now). Editors only; refused with every problem listed."""
    require_editor(by, "publish")
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    if issue.status == Issue.Status.PUBLISHED:
        return issue
    problems = publication_problems(issue)
    if problems:
        raise TransitionError(problems)
    now = at or timezone.now()
    issue.status = Issue.Status.PUBLISHED
    if issue.published_at is None:
        issue.published_at = now
    issue.updated_at = now
    issue.publish_error = ""
    issue.save(update_fields=["status", "published_at", "updated_at", "publish_error"])
    return issue
