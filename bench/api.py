"""The JSON API under load against plain Django views, cached and uncached.

gunicorn (2 gthread workers × 4 threads, production settings with DEBUG off,
the Redis cache the throttles use) serves a dedicated PostgreSQL database,
``curation_bench_api``: the demo issue plus a published issue of 50 picks, so
``/api/v1/picks/?page_size=50`` returns a full page. Baselines live in the
benchmark's own URLconf (bench/api_urls.py, via bench/api_settings.py),
served by the same gunicorn in the same run. Two targets, each ≥ 0.5×:

- **shared cache on**, as the product serves anonymous reads (from the shared
  cache, after authentication, throttling and the parameter check), against a
  ``JsonResponse`` of the picks' ``.values()`` rows;
- **shared cache off** (``PUBLIC_PAGE_CACHE=0``: every request a miss) against
  a plain Django view that builds the **same JSON document** (same fields,
  nesting, links and cursor links) from ``.values()`` queries, linking with
  ``reverse()`` as the site's views do — checked equal to the API's answer
  before measuring. For information, the same against that view with its
  links hand-optimized as the API's are (``reverse()`` once per URL name).

Load: wrk when installed, else a small thread-based generator; 8 connections
on loopback, a few seconds per figure (BENCH_SCALE shortens).
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.server import environment, free_port, get, manage, start_gunicorn, stop

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "curation_bench_api"
REDIS_URL = os.environ.get("BENCH_API_REDIS_URL", "redis://127.0.0.1:6379/12")
CONNECTIONS = 8
EXTRA_PICKS = 50
GROUP = "JSON API"

SEED = f"""
from datetime import UTC, date, datetime, timedelta
from issues.demo.loader import demo_editor
from issues.markdown import render_issue
from issues.models import Issue, Pick
from issues.publishing import publish_issue
from papers.ingest import PaperRecord, import_entries
from papers.models import Paper

when = datetime(2021, 5, 3, tzinfo=UTC)
records = [
    PaperRecord(
        arxiv_id=f"2105.{{n:05d}}", version=1, title=f"Benchmark paper {{n}} on learning things",
        abstract="An abstract of a few sentences. " * 6,
        authors=[(f"Bench Author {{n}}", ""), ("Bench Shared", ""), (f"Bench Third {{n % 7}}", "")],
        primary_category="cs.LG", categories=["cs.LG", "stat.ML"],
        submitted_at=when + timedelta(hours=n), updated_at=when + timedelta(hours=n),
        code_url="https://github.com/example/repo" if n % 2 else "",
    )
    for n in range(1, {EXTRA_PICKS} + 1)
]
import_entries(records)
issue = Issue.objects.create(
    title="May 2021", slug="may-2021", period_start=date(2021, 5, 1), period_end=date(2021, 5, 31),
    intro="Fifty picks for the benchmark.",
)
papers = Paper.objects.filter(arxiv_id__startswith="2105.").order_by("arxiv_id")
Pick.objects.bulk_create(
    Pick(issue=issue, paper=p, position=i, why=f"Why pick {{i}} *matters*.", key_insights=f"- insight {{i}}")
    for i, p in enumerate(papers, start=1)
)
render_issue(issue)
publish_issue(issue, by=demo_editor())
"""


def _environment(workdir):
    return environment(
        workdir,
        database=BENCH_DB,
        drop={"CELERY_BROKER_URL"},
        REDIS_URL=REDIS_URL,
        # The load generator is one client: the limits stay on (their Redis round trips are part
        # of every request) but never bite. Per second, so the request history each check
        # reads stays short, as it does in production.
        API_THROTTLE_ANON="1000000/second",
        API_THROTTLE_USER="1000000/second",
    )


def seconds():
    """Seconds of load per path and figure, split over the rounds."""
    return max(3.0, 9.0 * float(os.environ.get("BENCH_SCALE", "1")))


def _wrk(port, path, duration):
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration:.0f}s", "--timeout", "5s"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if bad:
        raise RuntimeError(f"{bad.group(1)} failed responses from {path}")
    return rate


def _python_load(port, path, duration):
    """Requests/s from CONNECTIONS threads, each a keep-alive HTTP client, for ``duration`` s."""
    done, errors = [0] * CONNECTIONS, []
    stop = time.monotonic() + duration

    def worker(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(response.status)
                done[index] += 1
            except OSError:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed responses from {path}")
    return sum(done) / (time.monotonic() - started)


ROUNDS = 3
# (figure, API path, baseline of the cached API, baseline building the same document, the same
# with its links hand-optimized)
FIGURES = [
    (
        "picks/?page_size=50",
        "/api/v1/picks/?page_size=50",
        "/bench/values/picks/",
        "/bench/document/picks/?page_size=50",
        "/bench/templated/picks/?page_size=50",
    ),
    (
        "issues/april-2021/ (demo)",
        "/api/v1/issues/april-2021/",
        "/bench/values/issues/april-2021/",
        "/bench/document/issues/april-2021/",
        "/bench/templated/issues/april-2021/",
    ),
]


def _rates(port, api_path, baseline_path):
    """Requests/s of both paths, measured in alternating rounds.

    The machine is shared: alternating short runs exposes both paths to the same
    background load, where two long runs one after the other would not.
    """
    for path in (api_path, baseline_path):
        status, _, body = get(port, path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
        # Warm up both workers' connections and caches before measuring.
        for _ in range(20):
            get(port, path)
    load = _wrk if shutil.which("wrk") else _python_load
    duration = max(1.0, seconds() / ROUNDS)
    api, baseline = [], []
    for _ in range(ROUNDS):
        baseline.append(load(port, baseline_path, duration))
        api.append(load(port, api_path, duration))
    return sum(api) / ROUNDS, sum(baseline) / ROUNDS


def _report_rates(report, port, *, cached):
    for name, api_path, values_path, document_path, templated_path in FIGURES:
        if cached:
            rows = [("", values_path, "JsonResponse from .values(), same gunicorn", True)]
        else:
            rows = [
                (
                    ", shared cache off",
                    document_path,
                    "plain view building the same JSON from .values(), same gunicorn",
                    True,
                ),
                (
                    ", shared cache off, vs hand-optimized links",
                    templated_path,
                    "the same view with reverse() once per URL name",
                    False,
                ),
            ]
        for suffix, baseline_path, label, target in rows:
            value, baseline = _rates(port, api_path, baseline_path)
            report.add(
                GROUP,
                f"{name} requests/s{suffix}",
                value,
                "req/s",
                baseline=baseline,
                baseline_label=label,
                **({"target": "≥ 0.5×", "passed": value >= 0.5 * baseline} if target else {}),
            )


def _check_same_documents(port):
    """The hand-built baselines answer exactly the API's JSON, or the comparison means nothing."""
    for _, api_path, _, document_path, templated_path in FIGURES:
        api = json.loads(get(port, api_path)[2])
        for path in (document_path, templated_path):
            if json.loads(get(port, path)[2]) != api:
                raise RuntimeError(f"{path} does not build the same document as {api_path}")
    if len(json.loads(get(port, FIGURES[0][1])[2])["results"]) != EXTRA_PICKS:
        raise RuntimeError("the picks page is not a full page of 50")


def run(report):
    if not shutil.which("wrk"):
        print("   wrk not found (apt-get install wrk): using the slower Python load generator", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        env = _environment(Path(tmp))
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        manage(env, "shell", "-c", SEED)
        port = free_port()
        server = start_gunicorn({**env, "DJANGO_SETTINGS_MODULE": "bench.api_settings"}, port)
        try:
            _check_same_documents(port)
            _report_rates(report, port, cached=True)
        finally:
            stop(server)
        # Every request a miss: the API's own work against the same document built by hand.
        server = start_gunicorn(
            {**env, "DJANGO_SETTINGS_MODULE": "bench.api_settings", "PUBLIC_PAGE_CACHE": "0"}, port
        )
        try:
            _check_same_documents(port)
            _report_rates(report, port, cached=False)
        finally:
            stop(server)
