"""Celery tasks for papers: thin callers of papers.harvest (they take ids, return ids).

harvest_source and fetch_papers go to the ``arxiv`` queue (CELERY_TASK_ROUTES),
consumed by one worker with concurrency 1; the shared limiter keeps even
several such workers polite.
"""

from celery import shared_task

from . import harvest
from .models import HarvestSource


@shared_task(name="papers.tasks.harvest_source")
def harvest_source(source_id, since=None, until=None):
    """Harvest one source, then retrain and rescore if it brought anything; returns the run id."""
    run = harvest.harvest_source(source_id, since=since, until=until)
    if run.created_count or run.updated_count:
        rank_after_harvest.delay_on_commit(run.pk)
    return run.pk


@shared_task(name="papers.tasks.harvest_enabled_sources")
def harvest_enabled_sources():
    """The beat entry point: one harvest task per enabled source."""
    ids = list(HarvestSource.objects.filter(enabled=True).values_list("pk", flat=True))
    for source_id in ids:
        harvest_source.delay(source_id)
    return ids


@shared_task(name="papers.tasks.fetch_papers")
def fetch_papers(texts, user_id=None):
    """Add papers by id/URL; returns the per-input results."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return harvest.add_papers_by_id(texts, by=user)


# Ranking (papers/ranking.py) ------------------------------------------------------------------
# Imported inside the tasks so that scikit-learn loads only where ranking runs,
# not in the arXiv harvest worker.


@shared_task(name="papers.tasks.rank_after_harvest")
def rank_after_harvest(harvest_run_id=None):
    """Retrain on our history and rescore the candidates; returns (model id, papers scored).

    The harvest calls this after each run (enqueue it on commit); the id is only
    for the log.
    """
    from .ranking import retrain_and_rescore

    model, scored = retrain_and_rescore()
    return [model.pk, scored]


@shared_task(name="papers.tasks.retrain_ranker")
def retrain_ranker():
    """The admin's "retrain now": same work as after a harvest."""
    from .ranking import retrain_and_rescore

    model, scored = retrain_and_rescore()
    return [model.pk, scored]


@shared_task(name="papers.tasks.score_papers")
def score_papers(paper_ids=None):
    """Score given papers (e.g. added by hand) with the active model; returns how many."""
    from .ranking import score_papers as score

    return score(paper_ids)
