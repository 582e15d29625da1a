"""Celery tasks of the issues app: thin callers of issues/publishing.py and issues/images.py."""

from celery import shared_task
from django.db import transaction

from . import images, publishing
from .models import Figure
from .page_cache import bump_publication_version


@shared_task(name="issues.tasks.publish_due_issues")
def publish_due_issues():
    """Beat runs this every minute; row locks make a second worker or beat harmless."""
    published, failed = publishing.publish_due_issues()
    return {"published": [issue.pk for issue in published], "failed": [issue.pk for issue in failed]}


@shared_task(name="issues.tasks.make_figure_renditions")
def make_figure_renditions(figure_id):
    """The responsive sizes of one figure's image; enqueued on commit by issues/figures.py.

    Returns the widths made. The row lock keeps two runs for the same figure (an
    image replaced twice in a row) from writing over each other's list.
    """
    with transaction.atomic():
        figure = Figure.objects.select_for_update().filter(pk=figure_id).first()
        if figure is None:
            return []  # removed before a worker got to it
        renditions = images.make_renditions(figure)
        if figure.pick.issue.is_published:
            bump_publication_version()  # readers of the published page get the new sizes at once
    return [rendition["width"] for rendition in renditions]
