"""Faults survived, against the real PostgreSQL, Redis and Celery worker processes.

- A worker killed (SIGKILL) mid-harvest: the task is redelivered (late acks)
  and the harvest completes with no duplicate and no missing paper.
- Redis unavailable: see test_cache.py (pages and the API serve, enqueueing
  says so clearly).
- PostgreSQL restarted during a harvest: the run ends failed with its
  reason; the next run completes the window.
- Two beats: each scheduled task arrives twice at once; nothing is published
  or harvested twice.

Each test starts its own worker processes on a queue of its own, pointed at
the test database and a local fake arXiv that answers slowly on purpose.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import close_old_connections, connection

from papers.fake_arxiv import FakeArxiv
from papers.models import HarvestRun, HarvestSource, Paper

ROOT = Path(__file__).resolve().parents[2]
DAYS = [date(2025, 6, 2), date(2025, 6, 3), date(2025, 6, 4)]  # Monday to Wednesday
PER_DAY = 12
PAGE_SIZE = 5  # 3 pages a day, 9 requests a harvest
VISIBILITY_TIMEOUT = 6

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.broker,
    pytest.mark.django_db(transaction=True),
]


# Helpers ----------------------------------------------------------------------


def wait_for(predicate, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def entries():
    out = []
    for d, day in enumerate(DAYS):
        for n in range(PER_DAY):
            when = datetime(day.year, day.month, day.day, 1 + n, 0, tzinfo=UTC)
            out.append(
                {
                    "arxiv_id": f"2506.{d * 100 + n + 10001:05d}",
                    "title": f"Fault-tolerant paper {d}-{n}",
                    "abstract": "We survive crashes.",
                    "authors": [f"Author {n}"],
                    "categories": ["cs.LG"],
                    "published": when.isoformat(),
                }
            )
    return out


EXPECTED_IDS = {e["arxiv_id"] for e in entries()}


def children_of(pid):
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def clear_broker_queues(*queues):
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*queues, "unacked", "unacked_index", "unacked_mutex")
    free_arxiv_slot()


def free_arxiv_slot():
    """Release arXiv's request slot held by a killed worker.

    papers/politeness.py lets others assume a holder died only after the
    slot's TTL; the tests don't wait that long.
    """
    import redis

    limiter = redis.Redis.from_url(settings.REDIS_URL or settings.CELERY_BROKER_URL)
    limiter.delete("curation:arxiv-limiter:holder")


class Worker:
    """A real ``celery worker`` process (own process group, so the whole worker can be killed)."""

    def __init__(self, fake, queues, *, concurrency=1, log=None):
        self.queues = queues
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "ARXIV_API_URL": fake.url,
            "ARXIV_REQUEST_INTERVAL": "0",
            "ARXIV_BACKOFF": "0.05",
            "ARXIV_MAX_RETRIES": "2",
            "ARXIV_EMPTY_FIRST_PAGE_RETRIES": "0",
            "ARXIV_TIMEOUT": "10",
            "ARXIV_PAGE_SIZE": str(PAGE_SIZE),
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "LOG_FORMAT": "text",
        }
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "curation",
                "worker",
                "-Q",
                ",".join(queues),
                "--concurrency",
                str(concurrency),
                "--pool",
                "prefork",
                "--loglevel",
                "info",
                "--hostname",
                f"faults-{uuid.uuid4().hex[:6]}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self):
        from curation.celery import ping

        assert ping.apply_async(args=["ready"], queue=self.queues[-1]).get(timeout=60) == "ready"

    def kill_pool_child(self):
        kids = children_of(self.process.pid)
        assert kids, "the worker has no pool process"
        for pid in kids:
            os.kill(pid, signal.SIGKILL)

    def kill_everything(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def fake():
    server = FakeArxiv(entries()).start()
    yield server
    server.stop()


@pytest.fixture
def queue():
    name = f"faults-{uuid.uuid4().hex[:8]}"
    clear_broker_queues(name, "arxiv", "celery")
    yield name
    clear_broker_queues(name, "arxiv", "celery")


@pytest.fixture
def workers(fake, tmp_path):
    started = []

    def start(queues, **options):
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 - closed below
        worker = Worker(fake, queues, log=log, **options)
        started.append((worker, log))
        return worker

    yield start
    for worker, log in started:
        worker.stop()
        log.close()


@pytest.fixture
def source():
    HarvestSource.objects.update(enabled=False)
    return HarvestSource.objects.create(name="faults", categories=["cs.LG"])


def enqueue_harvest(source, queue):
    from papers.tasks import harvest_source

    return harvest_source.apply_async(
        args=[source.pk], kwargs={"since": DAYS[0], "until": DAYS[-1]}, queue=queue
    )


def runs(source):
    return list(HarvestRun.objects.filter(source=source).order_by("started_at"))


def assert_window_complete_without_duplicates():
    ids = list(Paper.objects.filter(arxiv_id__in=EXPECTED_IDS).values_list("arxiv_id", flat=True))
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_IDS, f"missing: {sorted(EXPECTED_IDS - set(ids))[:5]}"


def slow_arxiv(fake, seconds=0.7, times=50):
    fake.add_fault("delay", delay=seconds, times=times)


# A worker killed mid-harvest ---------------------------------------------------


def test_pool_process_killed_mid_harvest_is_redelivered_within_5_s(fake, queue, workers, source):
    slow_arxiv(fake)
    worker = workers([queue])
    worker.wait_ready()
    enqueue_harvest(source, queue)
    first = wait_for(
        lambda: HarvestRun.objects.filter(source=source, pages__gte=2).first(), 60, what="two pages committed"
    )

    worker.kill_pool_child()
    killed_at = time.monotonic()
    fake.clear_faults()
    free_arxiv_slot()
    second = wait_for(
        lambda: HarvestRun.objects.filter(source=source).exclude(pk=first.pk).first(), 30, what="redelivery"
    )
    redelivered_after = time.monotonic() - killed_at
    assert redelivered_after < 5, f"redelivered after {redelivered_after:.1f} s"

    wait_for(
        lambda: HarvestRun.objects.filter(pk=second.pk, status=HarvestRun.Status.SUCCEEDED).exists(),
        60,
        what="the redelivered harvest to succeed",
    )
    assert_window_complete_without_duplicates()
    first.refresh_from_db()
    # The interrupted run is not left "running" forever: it says what happened.
    assert first.status == HarvestRun.Status.FAILED
    assert first.error


def test_whole_worker_killed_mid_harvest_is_redelivered_after_the_visibility_timeout(
    fake, queue, workers, source
):
    slow_arxiv(fake)
    worker = workers([queue])
    worker.wait_ready()
    enqueue_harvest(source, queue)
    first = wait_for(
        lambda: HarvestRun.objects.filter(source=source, pages__gte=2).first(), 60, what="two pages committed"
    )

    worker.kill_everything()
    killed_at = time.monotonic()
    fake.clear_faults()
    free_arxiv_slot()
    replacement = workers([queue])
    second = wait_for(
        lambda: HarvestRun.objects.filter(source=source).exclude(pk=first.pk).first(),
        VISIBILITY_TIMEOUT + 30,
        what="redelivery to the replacement worker",
    )
    redelivered_after = time.monotonic() - killed_at
    assert redelivered_after < VISIBILITY_TIMEOUT + 10, f"redelivered after {redelivered_after:.1f} s"

    wait_for(
        lambda: HarvestRun.objects.filter(pk=second.pk, status=HarvestRun.Status.SUCCEEDED).exists(),
        60,
        what="the redelivered harvest to succeed",
    )
    assert_window_complete_without_duplicates()
    replacement.stop()


# Two beats ---------------------------------------------------------------------


def test_two_beats_neither_publish_nor_harvest_twice(fake, queue, workers, source, editor):
    from django.utils import timezone

    from issues.models import Issue
    from issues.publishing import schedule_issue
    from issues.tasks import publish_due_issues
    from papers.tasks import harvest_enabled_sources
    from tests.conftest import make_issue

    issue = make_issue("june-2025", picks=2)
    issue = schedule_issue(issue, by=editor, publish_at=timezone.now() + timedelta(seconds=2))
    slow_arxiv(fake, seconds=0.3)
    # Two worker processes on every queue: the two copies really run at once.
    worker = workers([queue, "arxiv", "celery"], concurrency=2)
    worker.wait_ready()
    time.sleep(2.5)

    # Both beats fire each entry at the same moment.
    for _ in range(2):
        harvest_enabled_sources.apply_async(queue="celery")
        publish_due_issues.apply_async(queue="celery")

    wait_for(
        lambda: HarvestRun.objects.filter(source=source).exclude(status=HarvestRun.Status.RUNNING).count()
        == 2,
        90,
        what="both harvest tasks to finish",
    )
    # One harvested (the beat's window ends today, which the fake arXiv has no
    # papers for, so "partial" counts as done here); the other found the
    # source's lock taken and did nothing.
    statuses = sorted(run.status for run in runs(source))
    assert len(statuses) == 2
    assert statuses[1] == HarvestRun.Status.SKIPPED
    assert statuses[0] in {HarvestRun.Status.SUCCEEDED, HarvestRun.Status.PARTIAL}
    skipped = HarvestRun.objects.get(source=source, status=HarvestRun.Status.SKIPPED)
    assert "Another harvest" in skipped.error

    wait_for(
        lambda: Issue.objects.filter(pk=issue.pk, status=Issue.Status.PUBLISHED).exists(),
        30,
        what="the scheduled issue to be published",
    )
    issue.refresh_from_db()
    published_at = issue.published_at
    # Published once: one "published" revision, the time never rewritten.
    assert issue.revisions.filter(comment__icontains="published").count() == 1
    time.sleep(1)
    issue.refresh_from_db()
    assert issue.published_at == published_at


# PostgreSQL restarted ---------------------------------------------------------------


def restart_postgres():
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        timeout=120,
        capture_output=True,
    )


def postgres_ready():
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"]).returncode == 0


@pytest.mark.skipif(
    os.environ.get("CURATION_FAULTS_RESTART_POSTGRES") != "1" and os.environ.get("CURATION_NO_SKIPS") != "1",
    reason="restarts the machine's PostgreSQL cluster: set CURATION_FAULTS_RESTART_POSTGRES=1 (CI does)",
)
def test_postgres_restarted_mid_harvest_fails_the_run_with_its_reason_and_the_next_run_completes(
    fake, queue, workers, source
):
    slow_arxiv(fake, seconds=1.0)
    worker = workers([queue])
    worker.wait_ready()
    enqueue_harvest(source, queue)
    run = wait_for(
        lambda: HarvestRun.objects.filter(source=source, pages__gte=1).first(), 60, what="a committed page"
    )
    connection.close()
    restart_postgres()
    wait_for(postgres_ready, 60, interval=0.5, what="PostgreSQL to accept connections again")
    connection.close()

    # The worker records the failure itself if its connection can be re-opened;
    # otherwise the next run, which takes the source's lock, marks it.
    fake.clear_faults()
    try:
        wait_for(
            lambda: HarvestRun.objects.filter(pk=run.pk).exclude(status=HarvestRun.Status.RUNNING).exists(),
            20,
            interval=0.5,
            what="the worker to mark its run",
        )
    except AssertionError:
        pass
    enqueue_harvest(source, queue)
    wait_for(
        lambda: HarvestRun.objects.filter(source=source, status=HarvestRun.Status.SUCCEEDED).exists(),
        90,
        what="the next run to succeed",
    )
    run.refresh_from_db()
    assert run.status == HarvestRun.Status.FAILED
    assert run.error  # the database error, or "Interrupted: the worker stopped mid-run."
    assert run.finished_at is not None
    assert_window_complete_without_duplicates()
