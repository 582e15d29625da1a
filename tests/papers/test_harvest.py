"""Harvest runs against the fake arXiv: completeness, faults, idempotence, the mark."""

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from papers import harvest
from papers.arxiv_api import ArxivClient
from papers.models import HarvestRun, HarvestSource, Paper
from tests.papers.harvest_entries import entries_on, entry

pytestmark = pytest.mark.django_db

# 2025-06-02 is a Monday; 06-07/08 the weekend.
MON, TUE, WED, SAT = date(2025, 6, 2), date(2025, 6, 3), date(2025, 6, 4), date(2025, 6, 7)


@pytest.fixture
def source():
    return HarvestSource.objects.create(name="ml-test", categories=["cs.LG", "cs.CL"])


def run_days(source, since, until, **kwargs):
    return harvest.harvest_source(source.pk, since=since, until=until, **kwargs)


def test_a_run_pages_through_every_day_and_records_what_it_did(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(
        entries_on(MON, 12)
        + entries_on(TUE, 3, categories=["cs.CL"])
        + entries_on(WED, 4)
        + entries_on(TUE, 2, categories=["math.AG"])  # not in the source's categories
    )
    run = run_days(source, MON, WED)

    assert run.status == "succeeded", run.error
    assert (run.fetched, run.created_count, run.unchanged_count) == (19, 19, 0)
    assert run.pages == 3 + 1 + 1  # 12 entries at 5 a page, then one page per day
    assert Paper.objects.count() == 19
    assert not Paper.objects.filter(primary_category="math.AG").exists()
    source.refresh_from_db()
    assert source.high_water_mark == datetime(2025, 6, 5, tzinfo=UTC)
    # The window is one day ANDed with the categories ORed, oldest first.
    queries = [q for _, q in fake_arxiv.requests]
    assert (
        "search_query=(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202506020000 TO 202506022359]" in queries[0]
    )
    assert "sortBy=submittedDate&sortOrder=ascending" in queries[0]
    assert {q.split("start=")[1].split("&")[0] for q in queries[:3]} == {"0", "5", "10"}


def test_a_rerun_changes_nothing(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 7))
    run_days(source, MON, MON)
    before = dict(Paper.objects.values_list("arxiv_id", "modified"))

    run = run_days(source, MON, MON)

    assert (run.status, run.created_count, run.updated_count, run.unchanged_count) == ("succeeded", 0, 0, 7)
    assert dict(Paper.objects.values_list("arxiv_id", "modified")) == before


def test_incremental_runs_start_a_day_before_the_mark(harvest_settings, fake_arxiv, source):
    source.high_water_mark = datetime(2025, 6, 4, tzinfo=UTC)
    source.save()
    fake_arxiv.set_entries(entries_on(TUE, 2) + entries_on(WED, 2))

    run = harvest.harvest_source(source.pk, until=WED)

    assert run.window_start == datetime(2025, 6, 3, tzinfo=UTC)
    assert run.created_count == 4


def test_503_then_success_is_retried(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 3))
    fake_arxiv.add_fault("status", status=503, times=2)

    run = run_days(source, MON, MON)

    assert (run.status, run.retries, run.created_count) == ("succeeded", 2, 3)


def test_429_waits_as_long_as_retry_after_says(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 3))
    fake_arxiv.add_fault("status", status=429, retry_after="7", times=1)
    waits = []

    run = run_days(source, MON, MON, client=ArxivClient(sleep=waits.append))

    assert run.status == "succeeded"
    assert waits == [7.0]


def test_backoff_doubles_without_retry_after(harvest_settings, fake_arxiv, source):
    harvest_settings.ARXIV_BACKOFF = 1.0
    fake_arxiv.set_entries(entries_on(MON, 3))
    fake_arxiv.add_fault("status", status=503, times=3)
    waits = []

    run = run_days(source, MON, MON, client=ArxivClient(sleep=waits.append))

    assert run.status == "succeeded"
    assert [round(w) for w in waits] == [1, 2, 4]


def test_persistent_503_fails_the_run_but_keeps_committed_days(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 2) + entries_on(TUE, 2))
    fake_arxiv.add_fault("status", status=503, match="20250603", times=99)

    run = run_days(source, MON, TUE)

    assert run.status == "failed"
    assert "HTTP 503" in run.error and "gave up after 3 retries" in run.error
    assert Paper.objects.count() == 2
    source.refresh_from_db()
    assert source.high_water_mark == datetime(2025, 6, 3, tzinfo=UTC)  # Monday only


def test_http_400_fails_at_once_with_arxivs_message(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 2))
    fake_arxiv.add_fault(
        "status", status=400, body=_fixture("lukasschwab_arxiv.py__idlist_abc_error_http400.xml")
    )

    run = run_days(source, MON, MON)

    assert run.status == "failed"
    assert run.error == "arXiv rejected the query (HTTP 400): incorrect id format for abc"
    assert run.retries == 0


def test_malformed_xml_fails_the_run_and_keeps_earlier_pages(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 12))
    fake_arxiv.add_fault("malformed", skip=1)

    run = run_days(source, MON, MON)

    assert run.status == "failed"
    assert "malformed XML at start=5" in run.error
    assert run.pages == 1 and Paper.objects.count() == 5
    source.refresh_from_db()
    assert source.high_water_mark is None


def test_an_empty_first_page_on_a_weekday_is_unknown_not_zero(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 2) + entries_on(WED, 2))  # nothing on Tuesday

    run = run_days(source, MON, WED)

    assert run.status == "partial"
    assert run.unknown_days == ["2025-06-03"]
    assert "2025-06-03" in run.error
    assert run.created_count == 4  # Wednesday is still harvested
    source.refresh_from_db()
    # The mark stops before the unknown day, so the next run asks for it again.
    assert source.high_water_mark == datetime(2025, 6, 3, tzinfo=UTC)


def test_an_empty_weekend_is_fine(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(date(2025, 6, 6), 2))

    run = run_days(source, date(2025, 6, 6), date(2025, 6, 8))

    assert run.status == "succeeded"
    assert run.unknown_days == []


def test_an_empty_first_page_is_retried_before_giving_up(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 2))
    fake_arxiv.add_fault("empty", times=1)

    run = run_days(source, MON, MON)

    assert (run.status, run.retries, run.created_count) == ("succeeded", 1, 2)


def test_an_empty_middle_page_is_retried(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 12))
    fake_arxiv.add_fault("empty", skip=1, times=2)

    run = run_days(source, MON, MON)

    assert (run.status, run.retries, run.created_count) == ("succeeded", 2, 12)


def test_a_timeout_is_retried(harvest_settings, fake_arxiv, source):
    harvest_settings.ARXIV_TIMEOUT = 0.3
    fake_arxiv.set_entries(entries_on(MON, 2))
    fake_arxiv.add_fault("delay", delay=1.0, times=1)

    run = run_days(source, MON, MON)

    assert (run.status, run.retries, run.created_count) == ("succeeded", 1, 2)


def test_a_crash_after_page_k_then_a_rerun_leaves_no_gap_and_no_duplicate(
    harvest_settings, fake_arxiv, source, monkeypatch
):
    fake_arxiv.set_entries(entries_on(MON, 4) + entries_on(TUE, 12) + entries_on(WED, 3))
    real_import = harvest.import_entries
    calls = {"n": 0}

    def crash_on_third_page(records):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real_import(records)

    monkeypatch.setattr(harvest, "import_entries", crash_on_third_page)
    crashed = run_days(source, MON, WED)

    assert crashed.status == "failed" and "worker killed" in crashed.error
    assert crashed.pages == 2 and Paper.objects.count() == 4 + 5
    source.refresh_from_db()
    assert source.high_water_mark == datetime(2025, 6, 3, tzinfo=UTC)  # Tuesday was not complete

    monkeypatch.setattr(harvest, "import_entries", real_import)
    rerun = harvest.harvest_source(source.pk, until=WED)

    assert rerun.status == "succeeded"
    assert Paper.objects.count() == 19
    assert Paper.objects.values("arxiv_id").distinct().count() == 19
    source.refresh_from_db()
    assert source.high_water_mark == datetime(2025, 6, 5, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_counts_are_visible_while_the_run_is_going(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 12))
    seen = []

    def look(_query):
        # Another connection (the server's thread) sees the committed counters.
        try:
            seen.append(HarvestRun.objects.values_list("status", "pages", "created_count").get())
        finally:
            connection.close()

    fake_arxiv.add_fault("delay", delay=0, skip=2, hook=look)
    run_days(source, MON, MON)

    assert seen == [("running", 2, 10)]


def test_a_run_while_another_holds_the_source_is_skipped(harvest_settings, fake_arxiv, source):
    if connection.vendor == "postgresql":
        # Another worker's session holds the source's advisory lock.
        import psycopg

        other = psycopg.connect(**connection.get_connection_params(), autocommit=True)
        other.execute(
            "SELECT pg_advisory_lock(%s, %s)",
            [harvest._LOCK_NAMESPACE, harvest._lock_key(f"source:{source.pk}")],
        )
    else:
        other = None
        HarvestSource.objects.filter(pk=source.pk).update(
            lease_token="someone-else", lease_expires_at=datetime(2999, 1, 1, tzinfo=UTC)
        )
    try:
        run = run_days(source, MON, MON)
    finally:
        if other is not None:
            other.close()
    assert run.status == "skipped"
    assert "Another harvest of ml-test is running" in run.error
    assert fake_arxiv.requests == []


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_harvests_of_one_source(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 3))
    started, release = threading.Event(), threading.Event()
    fake_arxiv.add_fault("delay", delay=0, hook=lambda _q: (started.set(), release.wait(10)))
    results = {}

    def first():
        try:
            results["first"] = run_days(source, MON, MON)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(10)
    second = run_days(source, MON, MON)
    release.set()
    thread.join(20)

    assert second.status == "skipped"
    assert f"run #{results['first'].pk}" in second.error
    assert results["first"].status == "succeeded"
    assert Paper.objects.count() == 3


def test_a_new_version_updates_arxiv_fields_but_not_the_editors(harvest_settings, fake_arxiv, source):
    old = entry(MON, "2506.01234", title="Old title", abstract="See https://github.com/old/repo")
    fake_arxiv.set_entries([old])
    run_days(source, MON, MON)
    paper = Paper.objects.get(arxiv_id="2506.01234")
    assert paper.code_url == "https://github.com/old/repo"
    Paper.objects.filter(pk=paper.pk).update(
        code_url="https://github.com/editor/choice", links_set_by_editor=True
    )

    fake_arxiv.set_entries(
        [
            {
                **old,
                "version": 2,
                "title": "New title",
                "abstract": "Now at https://github.com/new/repo",
                "updated": "2025-06-20T10:00:00+00:00",
            }
        ]
    )
    run = run_days(source, MON, MON)

    assert (run.updated_count, run.created_count) == (1, 0)
    paper.refresh_from_db()
    assert (paper.version, paper.title) == (2, "New title")
    assert paper.abstract == "Now at https://github.com/new/repo"
    assert paper.code_url == "https://github.com/editor/choice"


def test_code_and_project_links_are_recorded(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(
        [
            entry(
                MON,
                "2506.04321",
                abstract="Code is available at https://github.com/acme/thing.",
                comment="Project page: https://acme.example.org/thing",
            )
        ]
    )
    run_days(source, MON, MON)
    paper = Paper.objects.get(arxiv_id="2506.04321")
    assert paper.code_url == "https://github.com/acme/thing"
    assert paper.project_url == "https://acme.example.org/thing"


def test_authors_and_affiliations_are_kept(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries([entry(MON, "2506.05555")])
    run_days(source, MON, MON)
    paper = Paper.objects.get(arxiv_id="2506.05555")
    assert [(a.author.name, a.affiliation) for a in paper.authorships.order_by("position")] == [
        ("Ada Lovelace", "Analytical Engine Ltd"),
        ("Alan Turing", ""),
    ]


def test_the_sample_month_harvests_from_the_fake_server(settings, db):
    from django.core.management import call_command

    from papers.management.commands.harvest_sample import SAMPLE_FIRST_DAY

    settings.ARXIV_REQUEST_INTERVAL = 0
    # (The data migration's source; a transactional test's flush may have removed it.)
    HarvestSource.objects.update_or_create(name="machine-learning", defaults={"categories": ["cs.CL"]})
    call_command("harvest_sample")
    run = HarvestRun.objects.get()
    assert run.status in ("succeeded", "partial")
    assert run.window_start.date() == SAMPLE_FIRST_DAY
    assert Paper.objects.count() > 2000
    assert all("cs.CL" in c for c in Paper.objects.values_list("categories", flat=True)[:200])


def _fixture(name):
    from pathlib import Path

    return (Path(__file__).parent / "fixtures" / name).read_text(encoding="utf-8")


def test_an_unchanged_batch_costs_one_read_and_no_write(
    harvest_settings, fake_arxiv, source, django_assert_num_queries
):
    from papers.arxiv_api import record_from_result
    from papers.ingest import import_entries

    fake_arxiv.set_entries(entries_on(MON, 4))
    run_days(source, MON, MON)
    page = ArxivClient().fetch_page(harvest.day_search(source.categories, MON), 0, 10)
    records = [record_from_result(r) for r in page.results]

    # SAVEPOINT; SELECT arxiv_id, version of the batch's ids; RELEASE SAVEPOINT.
    with django_assert_num_queries(3):
        result = import_entries(records)
    assert len(result.unchanged) == 4


def test_the_harvest_command_prints_the_summary_and_fails_loudly(
    harvest_settings, fake_arxiv, source, capsys
):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    fake_arxiv.set_entries(entries_on(MON, 2))
    call_command("harvest", "--source", "ml-test", "--since", "2025-06-02", "--until", "2025-06-02")
    out = capsys.readouterr().out
    assert "succeeded" in out and "created 2" in out

    fake_arxiv.add_fault("status", status=400)
    with pytest.raises(CommandError, match="1 harvest run"):
        call_command("harvest", "--categories", "cs.LG", "--since", "2025-06-02", "--until", "2025-06-02")
    assert "HTTP 400" in capsys.readouterr().out


@pytest.mark.parametrize(
    "abstract,comment,expected",
    [
        ("Code: https://github.com/acme/tool.", "", ("https://github.com/acme/tool", "")),
        ("Models at https://huggingface.co/acme/model", "", ("https://huggingface.co/acme/model", "")),
        ("See https://acme.github.io/tool/ for videos", "", ("", "https://acme.github.io/tool/")),
        ("", "Project page: https://tool.example.org, code https://gitlab.com/a/b",
         ("https://gitlab.com/a/b", "https://tool.example.org")),
        ("Discussed at https://huggingface.co/papers/2506.01234", "", ("", "")),
        ("Data from https://example.org/data.", "", ("", "")),
    ],
)  # fmt: skip
def test_code_and_project_link_detection(abstract, comment, expected):
    from papers.links import detect_links

    assert detect_links(abstract, comment) == expected


def test_the_tasks_are_thin_callers(harvest_settings, fake_arxiv, source, curator):
    from papers import tasks

    fake_arxiv.set_entries(entries_on(MON, 2) + [entry(MON, "2103.10360")])
    run_id = tasks.harvest_source(source.pk, since="2025-06-02", until="2025-06-02")
    assert HarvestRun.objects.get(pk=run_id).created_count == 3
    run = harvest.create_fetch_run(["2103.10360"], by=curator, status=HarvestRun.Status.QUEUED)
    assert tasks.fetch_papers(run.pk) == run.pk
    run.refresh_from_db()
    assert (run.status, run.unchanged_count) == ("succeeded", 1)


def test_beat_runs_every_enabled_source(harvest_settings, fake_arxiv, source, monkeypatch):
    from papers import tasks

    HarvestSource.objects.filter(name="machine-learning").update(enabled=False)
    queued = []
    monkeypatch.setattr(tasks.harvest_source, "delay", lambda source_id: queued.append(source_id))
    schedule = harvest_settings.CELERY_BEAT_SCHEDULE["harvest-enabled-sources"]
    assert schedule["task"] == "papers.tasks.harvest_enabled_sources"

    tasks.harvest_enabled_sources()

    assert queued == [source.pk]
