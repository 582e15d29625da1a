"""Celery tasks of the issues app: thin callers of issues/publishing.py."""

from celery import shared_task

from . import publishing


@shared_task(name="issues.tasks.publish_due_issues")
def publish_due_issues():
    """Beat runs this every minute; row locks make a second worker or beat harmless."""
    published, failed = publishing.publish_due_issues()
    return {"published": [issue.pk for issue in published], "failed": [issue.pk for issue in failed]}
