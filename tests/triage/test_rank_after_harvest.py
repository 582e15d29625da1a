"""A harvest run that brought papers hands over to the ranker (papers announces, triage listens)."""

from datetime import date

import pytest

from papers import tasks
from papers.models import HarvestSource
from tests.papers.harvest_entries import entries_on
from triage import tasks as triage_tasks

pytestmark = pytest.mark.django_db

MON = date(2025, 6, 2)


@pytest.fixture
def ranked(monkeypatch):
    calls = []
    monkeypatch.setattr(triage_tasks.rank_after_harvest, "delay", lambda run_id: calls.append(run_id))
    return calls


def test_a_harvest_that_brings_papers_retrains_and_rescores(
    harvest_settings, fake_arxiv, ranked, django_capture_on_commit_callbacks
):
    source = HarvestSource.objects.create(name="ml-task", categories=["cs.LG"])
    fake_arxiv.set_entries(entries_on(MON, 3))
    with django_capture_on_commit_callbacks(execute=True):
        run_id = tasks.harvest_source(source.pk, since=MON.isoformat(), until=MON.isoformat())
    assert ranked == [run_id]


def test_a_harvest_that_changes_nothing_does_not_rerank(
    harvest_settings, fake_arxiv, ranked, django_capture_on_commit_callbacks
):
    source = HarvestSource.objects.create(name="ml-task", categories=["cs.LG"])
    fake_arxiv.set_entries(entries_on(MON, 3))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.harvest_source(source.pk, since=MON.isoformat(), until=MON.isoformat())
        tasks.harvest_source(source.pk, since=MON.isoformat(), until=MON.isoformat())
    assert len(ranked) == 1
