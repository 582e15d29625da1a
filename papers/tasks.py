"""Celery tasks for papers: thin callers of papers.harvest (they take ids, return ids).

harvest_source and fetch_papers go to the ``arxiv`` queue (CELERY_TASK_ROUTES),
consumed by one worker with concurrency 1; the shared limiter keeps even
several such workers polite. reap_stale_runs stays on the default queue: the
arxiv worker may be busy with a long harvest.
"""

from celery import shared_task

from . import harvest
from .models import HarvestRun, HarvestSource


@shared_task(name="papers.tasks.harvest_source")
def harvest_source(source_id, since=None, until=None):
    """Harvest one source; returns the run id.

    A run that brought new or updated papers announces it (``harvest.harvest_finished``):
    the triage app, which builds on papers, retrains and rescores then.
    """
    run = harvest.harvest_source(source_id, since=since, until=until)
    if run.created_count or run.updated_count:
        harvest.harvest_finished.send(sender=HarvestRun, run_id=run.pk)
    return run.pk


@shared_task(name="papers.tasks.harvest_enabled_sources")
def harvest_enabled_sources():
    """The beat entry point: one harvest task per enabled source."""
    ids = list(HarvestSource.objects.filter(enabled=True).values_list("pk", flat=True))
    for source_id in ids:
        harvest_source.delay(source_id)
    return ids


@shared_task(name="papers.tasks.fetch_papers")
def fetch_papers(run_id):
    """Fetch the papers of a queued run (papers.adding.request_papers); returns the run id."""
    return harvest.run_fetch(run_id).pk


@shared_task(name="papers.tasks.reap_stale_runs")
def reap_stale_runs():
    """The beat entry point: runs whose worker died are marked failed; returns their ids."""
    return harvest.reap_stale_runs()
