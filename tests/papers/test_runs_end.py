"""Every run ends: succeeded, partial, failed or skipped, never "running" after its worker died.

A worker that dies (killed, out of memory, a machine gone) cannot write its
run's end. Runs beat while they work; the reaper (a beat task every five
minutes, and the start of every run) marks a run whose heartbeat stopped as
failed, "Interrupted (worker died)". Here a dead worker is a run row left
running with an old heartbeat.
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from papers import harvest, tasks
from papers.models import HarvestRun, HarvestSource
from tests.papers.harvest_entries import entries_on

pytestmark = pytest.mark.django_db
MON = date(2025, 6, 2)


def left_running(kind="fetch", silent_for=timedelta(minutes=11), **fields):
    """A run whose worker died ``silent_for`` ago, mid-way."""
    run = HarvestRun.objects.create(kind=kind, status="running", pages=2, **fields)
    HarvestRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now() - silent_for,
        started_at=timezone.now() - silent_for - timedelta(minutes=1),
    )
    return run


def test_the_reaper_ends_runs_whose_worker_died_and_only_those(settings):
    settings.HARVEST_HEARTBEAT_TIMEOUT = 600
    dead_fetch = left_running("fetch")
    dead_harvest = left_running("harvest", query="cat:cs.LG")
    never_beat = left_running("harvest", heartbeat_at=None)
    HarvestRun.objects.filter(pk=never_beat.pk).update(heartbeat_at=None)
    alive = left_running("harvest", silent_for=timedelta(minutes=2))
    snapshot = left_running("snapshot")  # snapshot imports resume by themselves; no heartbeat
    done = HarvestRun.objects.create(kind="fetch", status="succeeded")

    reaped = harvest.reap_stale_runs()

    assert sorted(reaped) == sorted([dead_fetch.pk, dead_harvest.pk, never_beat.pk])
    for run in (dead_fetch, dead_harvest, never_beat):
        run.refresh_from_db()
        assert run.status == "failed"
        assert run.error.startswith("Interrupted (worker died): no sign of life for 10 minutes.")
        assert run.finished_at is not None
        assert run.pages == 2  # what it committed is kept
    for run, status in ((alive, "running"), (snapshot, "running"), (done, "succeeded")):
        run.refresh_from_db()
        assert run.status == status
    assert harvest.reap_stale_runs() == []


def test_a_queued_run_no_worker_ever_took_ends_failed(settings):
    settings.HARVEST_QUEUED_TIMEOUT = 3600
    lost = HarvestRun.objects.create(kind="fetch", status="queued", query="2103.10360")
    waiting = HarvestRun.objects.create(kind="fetch", status="queued", query="2103.10361")
    HarvestRun.objects.filter(pk=lost.pk).update(started_at=timezone.now() - timedelta(hours=2))

    assert harvest.reap_stale_runs() == [lost.pk]

    lost.refresh_from_db()
    assert (lost.status, lost.error) == (
        "failed",
        "Never started: no worker took it from the task queue within 1 hours. Try again.",
    )
    waiting.refresh_from_db()
    assert waiting.status == "queued"


def test_the_reaper_runs_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reap-stale-harvest-runs"]
    assert entry["task"] == tasks.reap_stale_runs.name == "papers.tasks.reap_stale_runs"
    assert entry["schedule"] <= 600
    dead = left_running()
    assert tasks.reap_stale_runs() == [dead.pk]


def test_the_next_harvest_reaps_dead_runs_before_it_starts(harvest_settings, fake_arxiv):
    source = HarvestSource.objects.create(name="reap", categories=["cs.LG"])
    dead = left_running("fetch")
    fake_arxiv.set_entries(entries_on(MON, 2))

    run = harvest.harvest_source(source.pk, since=MON, until=MON)

    assert run.status == "succeeded"
    dead.refresh_from_db()
    assert dead.status == "failed"


def test_a_working_run_beats(harvest_settings, fake_arxiv, monkeypatch):
    source = HarvestSource.objects.create(name="beats", categories=["cs.LG"])
    fake_arxiv.set_entries(entries_on(MON, 12))
    beats = []
    import_page = harvest._import_page

    def import_and_look(run, *args):
        result = import_page(run, *args)
        beats.append(HarvestRun.objects.values_list("heartbeat_at", flat=True).get(pk=run.pk))
        return result

    monkeypatch.setattr(harvest, "_import_page", import_and_look)
    started = timezone.now()

    run = harvest.harvest_source(source.pk, since=MON, until=MON)

    assert run.status == "succeeded" and run.pages == 3
    # Every committed page renews the heartbeat.
    assert len(beats) == 3 and started <= beats[0] <= beats[1] <= beats[2]
