"""Triage at scale: search and the queue page over 1,000,000 papers in PostgreSQL.

The papers live in their own database (curation_bench_triage), built once with
COPY from real titles, abstracts and authors in
../shared/ranking-data/candidates.jsonl.gz, recombined so that a million
papers keep a real vocabulary: rare terms stay rare, common ones common. Later
runs reuse the database when it holds the requested number of papers.

The measuring runs in a child process pointed at that database (DATABASE_URL),
so the project's own database is never touched. Figures:

* ranked full-text search, top 20, 20 fixed queries from rare to very common:
  p95 with the candidate cap, next to an unbounded ts_rank (the baseline);
* the queue page (search + two filters + score order, 50 rows) through
  Django's test client: p95, and its query count with 5 and with 50 rows;
* admin changelists of papers: exact COUNT(*) statements issued (target 0),
  and the time of the estimate next to an exact count.

Size: TRIAGE_BENCH_PAPERS (default 1,000,000; use e.g. 50000 while developing).
"""

import gzip
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DEFAULT_PAPERS = 1_000_000
DATABASE = os.environ.get("TRIAGE_BENCH_DB", "curation_bench_triage")
PG = os.environ.get("TRIAGE_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SOURCE = Path(__file__).resolve().parent.parent.parent / "shared" / "ranking-data" / "candidates.jsonl.gz"
FIRST_DAY = date(2019, 1, 1)
DAYS = 6 * 365

# From rare to very common in ML abstracts.
QUERIES = [
    "Landolt",
    "subretinal prosthesis",
    '"optimal transport" -diffusion',
    "hyperbolic embeddings",
    "spiking neural",
    "federated unlearning",
    "protein folding",
    "mixture of experts",
    '"graph neural network"',
    "contrastive",
    "reinforcement learning",
    "diffusion",
    "large language models",
    "transformer",
    "benchmark",
    "training",
    "neural network",
    "data",
    "model",
    "learning",
]
REPEATS = 5
SEARCH_TARGET_MS = 100
QUEUE_TARGET_MS = 300


def run(report):
    size = int(os.environ.get("TRIAGE_BENCH_PAPERS", DEFAULT_PAPERS))
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-only-not-secret",
        "DJANGO_SETTINGS_MODULE": "curation.settings",
    }
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE], env=env, capture_output=True, check=False
    )
    results = []
    with subprocess.Popen(
        [sys.executable, "-m", "bench.triage", str(size)], env=env, stdout=subprocess.PIPE, text=True
    ) as process:
        for line in process.stdout:
            if line.startswith("RESULT "):
                results.append(json.loads(line[len("RESULT ") :]))
            else:
                print("   " + line.rstrip(), flush=True)
    if process.returncode:
        raise RuntimeError(f"bench.triage worker failed with exit code {process.returncode}")
    for row in results:
        report.add(**row)


# -- the worker (runs in the child process) -------------------------------------------------


def emit(group, figure, value, unit, **extra):
    print(
        "RESULT " + json.dumps({"group": group, "figure": figure, "value": value, "unit": unit, **extra}),
        flush=True,
    )


def p95(values):
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)]


def worker(size, *, measuring=True):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_triage_meta (size bigint, built_at timestamptz)")
        cursor.execute("SELECT size FROM bench_triage_meta")
        row = cursor.fetchone()
    if row is None or row[0] != size:
        build(size)
    else:
        print(f"reusing {size:,} papers in {DATABASE}", flush=True)
    if measuring:
        measure(size)


def _samples():
    rows = []
    with gzip.open(SOURCE, "rt") as handle:
        for line in handle:
            data = json.loads(line)
            if data.get("title") and data.get("abstract"):
                rows.append(data)
    return rows


def build(size):
    from django.db import connection

    from papers.models import Paper
    from triage.models import PaperScore, RankerModel

    started = time.perf_counter()
    samples = _samples()
    titles = [s["title"].split() for s in samples]
    sentences = [s["abstract"].replace("\n", " ").split(". ") for s in samples]
    authors = [s.get("authors") or ["Anonymous"] for s in samples]
    categories = [s.get("categories") or ["cs.LG"] for s in samples]
    rng = random.Random(20260501)
    fields = [f for f in Paper._meta.concrete_fields if f.column != "id"]
    columns = [f.column for f in fields]
    # Every other column (including ones added later) gets its model default.
    defaults = {f.column: f.get_db_prep_save(f.get_default(), connection) for f in fields}
    now = datetime.now(UTC)
    print(f"building {size:,} papers in {DATABASE} from {len(samples):,} real ones…", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_triage_meta")
        cursor.execute("SELECT count(*) FROM papers_paper")
        # A build interrupted after the copy resumes from the scores.
        if cursor.fetchone()[0] != size:
            cursor.execute("TRUNCATE papers_paper RESTART IDENTITY CASCADE")
            cursor.execute("DROP INDEX IF EXISTS paper_search_gin")
            copy_sql = f"COPY papers_paper ({', '.join(columns)}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for n in range(size):
                    a, b = rng.randrange(len(samples)), rng.randrange(len(samples))
                    # Recombine: the first half of one real title with the second half of another,
                    # and an abstract of sentences from two real ones.
                    ta, tb = titles[a], titles[b]
                    title = " ".join(ta[: max(1, len(ta) // 2)] + tb[len(tb) // 2 :])
                    sa, sb = sentences[a], sentences[b]
                    abstract = ". ".join(sa[: max(1, len(sa) // 2)] + sb[len(sb) // 2 :])
                    # Harvests arrive in date order, so the table is laid out by submission date.
                    day = FIRST_DAY + timedelta(days=n * DAYS // size)
                    when = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)
                    cats = categories[a]
                    values = dict(defaults)
                    values.update(
                        arxiv_id=f"b{n:07d}",
                        version=1,
                        title=title,
                        abstract=abstract,
                        authors_text=", ".join(authors[a][:4] + authors[b][4:6]),
                        primary_category=cats[0],
                        categories=json.dumps(cats),
                        submitted_at=when,
                        updated_at=when,
                        code_url=f"https://github.com/bench/{n}" if rng.random() < 0.3 else "",
                        created=now - timedelta(days=rng.randrange(DAYS)),
                        modified=now,
                        search_vector=None,  # the trigger fills it
                    )
                    copy.write_row([values[c] for c in columns])
                    if n and n % 100_000 == 0:
                        print(f"  {n:,} papers ({time.perf_counter() - started:.0f} s)", flush=True)
            print(f"  copied ({time.perf_counter() - started:.0f} s); indexing…", flush=True)
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS paper_search_gin ON papers_paper USING gin (search_vector)"
        )
        cursor.execute("TRUNCATE papers_paperscore")
        ranker, _ = RankerModel.objects.get_or_create(version=1, defaults={"kind": "linear", "active": True})
        score_fields = [f for f in PaperScore._meta.concrete_fields if f.column != "id"]
        score_defaults = {f.column: f.get_db_prep_save(f.get_default(), connection) for f in score_fields}
        score_columns = [f.column for f in score_fields]
        cursor.execute("SELECT id FROM papers_paper")
        ids = [r[0] for r in cursor.fetchall()]
        explanation = json.dumps(
            {"kind": "linear", "up": [{"label": "bench", "contribution": 0.1}], "down": []}
        )
        with cursor.cursor.copy(f"COPY papers_paperscore ({', '.join(score_columns)}) FROM STDIN") as copy:
            for pid in ids:
                values = dict(score_defaults)
                # A tenth of the papers is not scored yet: they sort last.
                if rng.random() < 0.1:
                    continue
                values.update(
                    paper_id=pid,
                    ranker_id=ranker.pk,
                    score=rng.random(),
                    explanation=explanation,
                    scored_at=now,
                )
                copy.write_row([values[c] for c in score_columns])
    connection.close()
    with connection.cursor() as cursor:
        # VACUUM cannot run inside a transaction block; autocommit is on here.
        cursor.execute("VACUUM ANALYZE papers_paper")
        cursor.execute("VACUUM ANALYZE papers_paperscore")
        cursor.execute("INSERT INTO bench_triage_meta VALUES (%s, now())", [size])
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)


def measure(size):
    from django.contrib.auth.models import Group, User
    from django.db import connection, reset_queries
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from curation.pagination import estimate_count
    from issues.models import Issue
    from papers.models import Paper
    from papers.search import search_papers
    from triage.models import Candidate

    # The test client reads response.context only with instrumented templates.
    setup_test_environment()

    # 1. Ranked search, top 20, capped vs unbounded ts_rank.
    capped, unbounded, counts = [], [], {}
    for query in QUERIES:
        list(search_papers(Paper.objects.all(), query)[:20])  # warm the cache
        for _ in range(REPEATS):
            started = time.perf_counter()
            list(search_papers(Paper.objects.all(), query)[:20])
            capped.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        list(search_papers(Paper.objects.all(), query, cap=None)[:20])
        unbounded.append((time.perf_counter() - started) * 1000)
        counts[query] = estimate_count(_matching(query))
    print(
        "   matches per query (estimated): " + ", ".join(f"{q} {n:,}" for q, n in counts.items()), flush=True
    )
    search_p95 = p95(capped)
    emit(
        "triage scale",
        f"search top-20 p95 ({size:,} papers, 20 queries)",
        search_p95,
        "ms",
        baseline=p95(unbounded),
        baseline_label="unbounded ts_rank p95",
        target=f"< {SEARCH_TARGET_MS} ms",
        passed=search_p95 < SEARCH_TARGET_MS,
    )

    # 2. The queue page through the test client.
    group, _ = Group.objects.get_or_create(name="Curators")
    user, _ = User.objects.get_or_create(username="bench-curator", defaults={"is_staff": True})
    user.groups.add(group)
    issue, _ = Issue.objects.get_or_create(
        slug="bench-triage",
        defaults={"title": "Bench", "period_start": date(2024, 3, 1), "period_end": date(2024, 3, 31)},
    )
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("triage:queue", args=[issue.pk])
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    queue_times, count_times = [], []
    with override_settings(STORAGES=storages):
        for query in QUERIES:
            params = {"q": query, "category": "cs.LG", "code": "1"}
            client.get(url, params)
            for _ in range(REPEATS):
                started = time.perf_counter()
                response = client.get(url, params)
                queue_times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
            # The baseline: what an ordinary paginator would add, an exact count of the same queue.
            started = time.perf_counter()
            Candidate.objects.for_issue(issue).in_category("cs.LG").exclude(code_url="").count()
            count_times.append((time.perf_counter() - started) * 1000)
        queue_p95 = p95(queue_times)
        emit(
            "triage scale",
            "queue page p95 (search + 2 filters + score order, 50 rows)",
            queue_p95,
            "ms",
            baseline=p95(count_times),
            baseline_label="exact COUNT of the same queue",
            target=f"< {QUEUE_TARGET_MS} ms",
            passed=queue_p95 < QUEUE_TARGET_MS,
        )
        query_counts = []
        few = {"q": "federated unlearning", "category": "cs.LG", "code": "1"}
        for params in (few, {"q": "model", "category": "cs.LG", "code": "1"}):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url, params)
            query_counts.append((len(response.context["rows"]), len(captured)))
        print(f"   queue queries (rows, queries): {query_counts}", flush=True)
        emit(
            "triage scale",
            f"queue page queries ({query_counts[0][0]} rows vs {query_counts[1][0]} rows)",
            query_counts[1][1],
            "queries",
            baseline=query_counts[0][1],
            baseline_label=f"with {query_counts[0][0]} rows",
            target="does not grow with rows",
            passed=query_counts[1][1] <= query_counts[0][1],
        )

        # 3. Admin changelists: no exact COUNT(*) over the whole table.
        admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
            "bench-admin", "bench@example.org", "x"
        )
        client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
        full_counts = 0
        for name in ["admin:papers_paper_changelist", "admin:triage_paperscore_changelist"]:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(reverse(name))
            assert response.status_code == 200, (name, response.status_code)
            full_counts += sum(
                1 for q in captured if "COUNT(" in q["sql"].upper() and "WHERE" not in q["sql"].upper()
            )
        started = time.perf_counter()
        estimate_count(Paper.objects.all())
        estimate_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        Paper.objects.count()
        exact_ms = (time.perf_counter() - started) * 1000
        emit(
            "triage scale",
            "exact COUNT(*) over a whole table on admin pages",
            full_counts,
            "queries",
            target="0",
            passed=full_counts == 0,
        )
        emit(
            "triage scale",
            "paper count: estimate (pg_class.reltuples)",
            estimate_ms,
            "ms",
            baseline=exact_ms,
            baseline_label="exact COUNT(*)",
        )


def _matching(query):
    from django.contrib.postgres.search import SearchQuery

    from papers.models import Paper

    return Paper.objects.filter(search_vector=SearchQuery(query, search_type="websearch", config="english"))


if __name__ == "__main__":
    # ``python -m bench.triage 1000000 --build-only`` (with DATABASE_URL set) builds without measuring.
    worker(
        int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PAPERS, measuring="--build-only" not in sys.argv
    )
