"""Celery tasks of the ranker: thin callers of triage/ranking.py (they take ids, return ids).

scikit-learn loads only in the processes that import this module (the
default-queue worker), never in the arXiv harvest worker.
"""

from celery import shared_task
from django.db import transaction

from curation.roles import require_curator

from . import ranking


@shared_task(name="triage.tasks.rank_after_harvest")
def rank_after_harvest(harvest_run_id=None):
    """Retrain on our history and rescore the candidates; returns (model id, papers scored).

    Enqueued on commit when a harvest run brought papers (``on_harvest_finished``);
    the run id is only for the log.
    """
    model, scored = ranking.retrain_and_rescore()
    return [model.pk, scored]


@shared_task(name="triage.tasks.retrain_ranker")
def retrain_ranker():
    """The admin's "retrain now": same work as after a harvest."""
    model, scored = ranking.retrain_and_rescore()
    return [model.pk, scored]


@shared_task(name="triage.tasks.score_papers")
def score_papers(paper_ids=None):
    """Score given papers (e.g. added by hand) with the active model; returns how many."""
    return ranking.score_papers(paper_ids)


def request_retrain(*, by):
    """Queue a retrain + rescore (the admin button); curators and editors only."""
    require_curator(by, "retrain the ranker")
    retrain_ranker.delay_on_commit()
    return True


def on_harvest_finished(sender, run_id, **kwargs):
    """papers.harvest.harvest_finished: rescore once the run's papers are committed."""
    transaction.on_commit(lambda: rank_after_harvest.delay(run_id))
