"""Mixed load: readers on the pages and the API while a harvest and a publication happen.

gunicorn (production settings, DEBUG off, Redis cache) serves a dedicated
PostgreSQL database, ``curation_bench_mixed``; a real Celery worker harvests
from the local fake arXiv and publishes a scheduled issue. Reader threads
cycle through the public pages and the API on loopback, first on a quiet
site (the baseline), then while the harvest and the publication run. Every
response must be 2xx/3xx (the scheduled issue's page may be 404 until it is
published): the target is zero errors. Bounded: about 2 × BENCH_SECONDS plus
the harvest. BENCH_SCALE shrinks the harvest and the durations.
"""

import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import psycopg
from celery import Celery

from bench.pgdb import scale
from bench.server import environment, free_port, get, manage, start_gunicorn, stop

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "curation_bench_mixed"
BROKER_URL = os.environ.get("BENCH_MIXED_BROKER_URL", "redis://127.0.0.1:6379/14")
REDIS_URL = os.environ.get("BENCH_MIXED_REDIS_URL", "redis://127.0.0.1:6379/15")
READERS = 8
GROUP = "mixed load"
PATHS = [
    "/",
    "/issues/april-2021/",
    "/issues/",
    "/api/v1/issues/",
    "/api/v1/issues/april-2021/",
    "/api/v1/papers/?page_size=20",
    "/search/?q=learning",
    "/feeds/atom.xml",
    "/issues/may-2021/",  # 404 until the scheduled issue is published mid-run
]
LATE_PATH = "/issues/may-2021/"
DAYS = [date(2025, 6, 2), date(2025, 6, 3)]

SETUP = """
from datetime import date, timedelta
from django.utils import timezone
from issues.markdown import render_issue
from issues.models import Issue, Pick
from papers.models import HarvestSource
april = Issue.objects.get(slug="april-2021")
may = Issue.objects.create(
    title="May 2021", subtitle="Mixed load", slug="may-2021", period_start=date(2021, 5, 1),
    period_end=date(2021, 5, 31), byline="The bench", intro=april.intro, outro=april.outro,
    status="scheduled", publish_at=timezone.now() + timedelta(days=365),
)
for pick in april.picks.all():
    Pick.objects.create(issue=may, paper=pick.paper, position=pick.position, why=pick.why,
                        key_insights=pick.key_insights)
render_issue(may)
HarvestSource.objects.update(enabled=False)
print(HarvestSource.objects.create(name="bench-mixed", categories=["cs.LG"]).pk)
"""


def seconds():
    return max(2.0, 8.0 * float(os.environ.get("BENCH_SCALE", "1")))


def _environment(workdir, fake_url):
    return environment(
        workdir,
        database=BENCH_DB,
        drop={"PUBLIC_PAGE_CACHE"},
        CELERY_BROKER_URL=BROKER_URL,
        REDIS_URL=REDIS_URL,
        # One loopback address is all the readers: the API's per-address limit is not what we measure.
        API_THROTTLE_ANON="100000000/minute",
        # Nor the search guards (issues/search.py): a per-address rate, and a few searches at once per
        # process, which eight readers from one address would exceed by design.
        SEARCH_RATE_PER_MINUTE="0",
        SEARCH_CONCURRENCY=str(READERS),
        ARXIV_API_URL=fake_url,
        ARXIV_REQUEST_INTERVAL="0",
        ARXIV_PAGE_SIZE="500",
        ARXIV_EMPTY_FIRST_PAGE_RETRIES="0",
    )


class Readers:
    """READERS threads cycling through PATHS on keep-alive connections until stopped."""

    def __init__(self, port, published=lambda: False):
        self.port, self.published = port, published
        self.latencies, self.errors, self.late_404 = [], [], 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read, args=(i,)) for i in range(READERS)]
        self._lock = threading.Lock()

    def _read(self, offset):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        mine, n = [], offset
        while not self._stop.is_set():
            path = PATHS[n % len(PATHS)]
            n += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                with self._lock:
                    self.errors.append(f"{path}: {error.__class__.__name__}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                continue
            mine.append(time.perf_counter() - started)
            if status == 404 and path == LATE_PATH and not self.published():
                with self._lock:
                    self.late_404 += 1
            elif status >= 400:
                with self._lock:
                    self.errors.append(f"{path}: HTTP {status}")
        connection.close()
        with self._lock:
            self.latencies.extend(mine)

    def start(self):
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.elapsed = time.monotonic() - self.started
        self.latencies.sort()
        return self

    @property
    def rps(self):
        return len(self.latencies) / self.elapsed

    def p99_ms(self):
        return self.latencies[min(len(self.latencies) - 1, int(len(self.latencies) * 0.99))] * 1000


def _status(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def _entries(count):
    from bench.harvest import sample_entries

    return [{**e, "categories": ["cs.LG"], "primary": "cs.LG"} for e in sample_entries(count, days=len(DAYS))]


def run(report):
    from papers.fake_arxiv import FakeArxiv

    subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], capture_output=True)
    subprocess.run(
        ["redis-cli", "-u", BROKER_URL, "del", "celery", "arxiv", "unacked", "unacked_index"],
        capture_output=True,
    )
    papers = scale(4000)
    fake = FakeArxiv(_entries(papers)).start()
    # arXiv is slow: each page takes a while, so the harvest overlaps the readers.
    fake.add_fault("delay", delay=0.3, times=1000)
    celery = Celery(broker=BROKER_URL)
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as tmp:
        workdir = Path(tmp)
        env = _environment(workdir, fake.url)
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        manage(env, "collectstatic", "--noinput")
        source_id = int(
            subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", SETUP],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()[-1]
        )
        db = psycopg.connect(env["DATABASE_URL"], autocommit=True)
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "curation",
                "worker",
                "-Q",
                "arxiv,celery",
                "--concurrency",
                "2",
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = free_port()
        server = start_gunicorn(env, port)
        try:
            for path in PATHS[:-1]:
                assert get(port, path)[0] == 200, path
            warm = Readers(port).start()
            time.sleep(1)
            warm.stop()

            quiet = Readers(port).start()
            time.sleep(seconds())
            quiet.stop()

            def published():
                row = db.execute("SELECT status FROM issues_issue WHERE slug = 'may-2021'").fetchone()
                return row and row[0] == "published"

            state = {"published": False}
            mixed = Readers(port, published=lambda: state["published"]).start()
            harvest_started = time.monotonic()
            celery.send_task(
                "papers.tasks.harvest_source",
                args=[source_id],
                kwargs={"since": DAYS[0], "until": DAYS[-1]},
                queue="arxiv",
            )
            time.sleep(min(2.0, seconds() / 4))
            db.execute("UPDATE issues_issue SET publish_at = now() WHERE slug = 'may-2021'")
            publish_sent = time.monotonic()
            celery.send_task("issues.tasks.publish_due_issues", queue="celery")
            deadline = time.monotonic() + 120
            harvest_seconds = publish_seconds = None
            while time.monotonic() < deadline and (harvest_seconds is None or publish_seconds is None):
                if publish_seconds is None and published():
                    state["published"] = True
                    publish_seconds = time.monotonic() - publish_sent
                if harvest_seconds is None:
                    row = db.execute(
                        "SELECT status, created_count FROM papers_harvestrun WHERE source_id = %s "
                        "AND status <> 'running'",
                        [source_id],
                    ).fetchone()
                    if row:
                        harvest_seconds = time.monotonic() - harvest_started
                        harvest_status, harvested = row
                time.sleep(0.1)
            remaining = seconds() - (time.monotonic() - mixed.started)
            if remaining > 0:
                time.sleep(remaining)
            mixed.stop()
            print(
                f"   quiet {quiet.rps:.0f} req/s, mixed {mixed.rps:.0f} req/s, "
                f"errors {len(quiet.errors) + len(mixed.errors)}, harvest {harvest_seconds} s, "
                f"publish {publish_seconds} s; {(quiet.errors + mixed.errors)[:4]}",
                flush=True,
            )
            late_status = _status(port, LATE_PATH)
        finally:
            stop(server)
            worker.terminate()
            worker.wait(timeout=30)
            db.close()
            fake.stop()

    if harvest_seconds is None or publish_seconds is None:
        raise RuntimeError("the harvest or the publication did not finish within 120 s")
    label = "same readers, quiet site"
    report.add(
        GROUP,
        "reader throughput during harvest + publish",
        mixed.rps,
        "req/s",
        baseline=quiet.rps,
        baseline_label=label,
        target="≥ 0.3× quiet",
        passed=mixed.rps >= 0.3 * quiet.rps,
    )
    report.add(
        GROUP,
        "reader p99 latency during harvest + publish",
        mixed.p99_ms(),
        "ms",
        baseline=quiet.p99_ms(),
        baseline_label=label,
    )
    report.add(
        GROUP,
        "reader errors during harvest + publish",
        len(mixed.errors) + len(quiet.errors),
        "errors",
        target="0",
        passed=not mixed.errors and not quiet.errors,
        note="; ".join((mixed.errors + quiet.errors)[:5]),
    )
    report.add(
        GROUP,
        f"harvest of {papers:,} papers under load ({harvest_status})",
        harvest_seconds,
        "s",
        note=f"{harvested} created",
    )
    report.add(
        GROUP,
        "scheduled issue live after publish task",
        publish_seconds,
        "s",
        target="page 200 after",
        passed=late_status == 200,
    )
