"""Harvest figures (PostgreSQL): loading new, new-version and unchanged entries, and end to end.

- 50,000 new parsed entries through import_entries vs a plain COPY into the empty twin: ≥ 0.5×.
- 50,000 entries that all carry a new version, same baseline: ≥ 0.5×.
- 50,000 unchanged entries vs Django's bulk_create(update_conflicts=True): ≥ 20× and ≥ 50,000/s.
- 20,000 entries harvested from the fake arXiv (no delay) vs fetching and parsing them with the
  arxiv package alone + COPY into the twin: at most 1.5× the time.

Entries are the shipped real sample month, repeated under new ids to reach the sizes.
BENCH_SCALE=0.1 shrinks every size while developing.
"""

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import arxiv
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from bench import pgdb
from papers.arxiv_api import day_search
from papers.fake_arxiv import FakeArxiv, load_entries
from papers.fake_arxiv.server import normalize_entry
from papers.harvest import harvest_source
from papers.ingest import ARXIV_FIELDS, PaperRecord, import_entries
from papers.models import HarvestSource, Paper

BATCH = 2000  # what one harvested page holds


def sample_entries(count, first_day=datetime(2025, 6, 2, tzinfo=UTC), days=None):
    """``count`` fake-arXiv entries from the sample month under fresh ids, spread over ``days``."""
    base = load_entries()
    out = []
    days = days or max(1, count // 2000)
    for i in range(count):
        raw = base[i % len(base)]
        month, number = divmod(i, 99999)
        day = first_day + timedelta(days=i % days)
        out.append(
            {
                **raw,
                "arxiv_id": f"24{month + 1:02d}.{number + 1:05d}",
                "published": (day + timedelta(seconds=(i * 7) % 86000)).isoformat(),
            }
        )
    return out


def records_from(entries):
    records = []
    for raw in entries:
        entry = normalize_entry(raw)
        records.append(
            PaperRecord(
                arxiv_id=entry["arxiv_id"],
                version=entry["version"],
                title=entry["title"],
                abstract=entry["abstract"],
                authors=entry["authors"],
                primary_category=entry["primary"],
                categories=entry["categories"],
                submitted_at=entry["published"],
                updated_at=entry["updated"],
            )
        )
    return records


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def import_in_batches(records):
    for i in range(0, len(records), BATCH):
        import_entries(records[i : i + BATCH])


def run(report):
    pgdb.use_bench_database()
    pgdb.create_twin()
    n = pgdb.scale(50_000)
    records = records_from(sample_entries(n))

    # New entries -----------------------------------------------------------
    pgdb.reset_papers()
    pgdb.truncate_twin()
    copy_s = timed(lambda: pgdb.copy_into_twin(records))
    ours_s = timed(lambda: import_in_batches(records))
    assert Paper.objects.count() == n
    ours, base = n / ours_s, n / copy_s
    report.add(
        "harvest",
        f"load {n:,} new entries",
        ours,
        "entries/s",
        baseline=base,
        baseline_label="COPY into twin",
        target="≥ 0.5×",
        passed=ours >= 0.5 * base,
    )

    # Unchanged entries -----------------------------------------------------
    ours_s = timed(lambda: import_in_batches(records))
    papers = [
        Paper(
            arxiv_id=r.arxiv_id,
            version=r.version,
            title=r.title,
            abstract=r.abstract,
            authors_text=", ".join(a for a, _ in r.authors),
            primary_category=r.primary_category,
            categories=r.categories,
            submitted_at=r.submitted_at,
            updated_at=r.updated_at,
        )
        for r in records
    ]
    django_s = timed(
        lambda: [
            Paper.objects.bulk_create(
                papers[i : i + BATCH],
                update_conflicts=True,
                unique_fields=["arxiv_id"],
                update_fields=ARXIV_FIELDS,
            )
            for i in range(0, n, BATCH)
        ]
    )
    ours, base = n / ours_s, n / django_s
    report.add(
        "harvest",
        f"re-harvest {n:,} unchanged entries",
        ours,
        "entries/s",
        baseline=base,
        baseline_label="bulk_create(update_conflicts)",
        target="≥ 20× and ≥ 50,000/s",
        passed=ours >= 20 * base and ours >= 50_000,
    )

    # New versions ----------------------------------------------------------
    newer = [
        replace(
            r,
            version=r.version + 1,
            title=r.title + " (revised)",
            updated_at=r.updated_at + timedelta(days=30),
        )
        for r in records
    ]
    pgdb.truncate_twin()
    copy_s = timed(lambda: pgdb.copy_into_twin(newer))
    ours_s = timed(lambda: import_in_batches(newer))
    assert Paper.objects.filter(version=2).count() == n
    ours, base = n / ours_s, n / copy_s
    report.add(
        "harvest",
        f"load {n:,} new versions",
        ours,
        "entries/s",
        baseline=base,
        baseline_label="COPY into twin",
        target="≥ 0.5×",
        passed=ours >= 0.5 * base,
    )

    end_to_end(report)


def end_to_end(report):
    n = pgdb.scale(20_000)
    days = 10
    first_day = datetime(2025, 6, 2, tzinfo=UTC)
    server = FakeArxiv(sample_entries(n, first_day, days)).start()
    try:
        day_list = [(first_day + timedelta(days=d)).date() for d in range(days)]
        # Baseline: the arxiv package alone fetching and parsing every day + COPY into the twin.
        client = arxiv.Client(page_size=2000, delay_seconds=0, num_retries=0)
        client.query_url_format = server.url + "?{}"
        source = HarvestSource.objects.create(
            name=f"bench-{time.time()}", categories=["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML"]
        )

        def baseline():
            from papers.arxiv_api import record_from_result

            for day in day_list:
                results = list(client.results(day_search(source.categories, day)))
                pgdb.copy_into_twin([record_from_result(r) for r in results])

        # Warm the server's rendering cache for both sides alike.
        for day in day_list:
            list(client.results(day_search(source.categories, day)))
        pgdb.truncate_twin()
        base_s = timed(baseline)
        pgdb.reset_papers()
        with override_settings(ARXIV_API_URL=server.url, ARXIV_REQUEST_INTERVAL=0, ARXIV_PAGE_SIZE=2000):
            holder = {}
            ours_s = timed(
                lambda: holder.update(run=harvest_source(source.pk, since=day_list[0], until=day_list[-1]))
            )
        run = holder["run"]
        assert run.status == "succeeded", run.error
        fetched = run.fetched
    finally:
        server.stop()
    report.add(
        "harvest",
        f"end to end, {fetched:,} entries from the fake arXiv",
        ours_s,
        "s",
        baseline=base_s,
        baseline_label="arxiv package fetch+parse + COPY",
        target="≤ 1.5×",
        passed=ours_s <= 1.5 * base_s,
    )
    _ = settings, connection
