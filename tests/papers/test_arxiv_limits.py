"""The arXiv client against a hostile arXiv: dripping answers, huge answers, broken and oversized entries.

A read timeout fires only when nothing comes for that long, so a server that
drips a byte every few seconds held the deployment-wide arXiv slot forever;
a 250 MB answer was held in memory and downloaded three times; invalid entries
were dropped silently and a 3 MB title stored as is. The deadline and size
settings are small here so the tests stay fast.
"""

from datetime import date

import arxiv
import pytest

from papers import harvest
from papers.arxiv_api import ArxivClient, ArxivTooLarge, ArxivUnavailable
from papers.models import HarvestRun, HarvestSource, Paper
from papers.politeness import get_limiter
from tests.papers.harvest_entries import entries_on, entry

pytestmark = pytest.mark.django_db

MON = date(2025, 6, 2)
SEARCH = arxiv.Search(query="cat:cs.LG")


@pytest.fixture
def limits(harvest_settings):
    harvest_settings.ARXIV_REQUEST_DEADLINE = 0.5
    harvest_settings.ARXIV_TIMEOUT = 2  # longer than the deadline: only the deadline can end a drip
    harvest_settings.ARXIV_MAX_RESPONSE_BYTES = 100_000
    return harvest_settings


@pytest.fixture
def source():
    return HarvestSource.objects.create(name="limits", categories=["cs.LG"])


def test_a_dripping_answer_ends_at_the_deadline_and_frees_the_slot(limits, fake_arxiv):
    fake_arxiv.set_entries(entries_on(MON, 3))
    drip = fake_arxiv.add_fault("drip", delay=0.05)  # a byte every 50 ms: the read timeout never fires

    with pytest.raises(ArxivUnavailable, match=r"did not send its whole answer within 0.5 s"):
        ArxivClient(max_retries=0).fetch_page(SEARCH, 0, 10)

    assert 0 < drip.sent < 50  # cut off after about ten bytes, not read to the end
    # The slot was released: the next request goes through at once.
    with get_limiter().slot():
        pass
    assert len(ArxivClient(max_retries=0).fetch_page(SEARCH, 0, 10).results) == 3


def test_a_harvest_over_a_dripping_arxiv_fails_with_the_reason(limits, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 3))
    fake_arxiv.add_fault("drip", delay=0.05, times=99)

    run = harvest.harvest_source(source.pk, since=MON, until=MON, client=ArxivClient(sleep=lambda s: None))

    assert run.status == "failed"
    assert "did not send its whole answer within 0.5 s (gave up after 3 retries)" in run.error
    assert run.retries == 3
    assert len(fake_arxiv.requests) == 4


@pytest.mark.parametrize("declare_length", [True, False])
def test_an_answer_past_the_size_cap_is_refused_unread_and_not_retried(limits, fake_arxiv, declare_length):
    size = 40_000_000
    huge = fake_arxiv.add_fault("huge", size=size, declare_length=declare_length, times=9)

    with pytest.raises(ArxivTooLarge, match=r"larger than 0.1 MB .*; not retried"):
        ArxivClient().fetch_page(SEARCH, 0, 10)

    assert len(fake_arxiv.requests) == 1
    # Streaming stopped at the cap: the rest was never sent (the kernel's socket buffers hold a few MB).
    assert huge.sent < size / 4


def test_a_harvest_meeting_a_huge_answer_fails_at_once(limits, fake_arxiv, source):
    fake_arxiv.add_fault("huge", size=5_000_000, times=9)

    run = harvest.harvest_source(source.pk, since=MON, until=MON)

    assert (run.status, run.retries) == ("failed", 0)
    assert "larger than 0.1 MB (5 MB read or announced); not retried" in run.error


def test_invalid_entries_are_counted_and_named_on_the_run_not_dropped(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries(entries_on(MON, 7))  # pages of 5: the first page carries the broken ones
    fake_arxiv.add_fault("invalid", count=3)

    run = harvest.harvest_source(source.pk, since=MON, until=MON)

    assert run.status == "partial"
    assert "3 entries arXiv sent could not be used" in run.error
    assert (run.fetched, run.created_count, run.skipped_entries) == (7, 4, 3)
    assert Paper.objects.count() == 4
    problems = run.entry_problems
    assert len(problems) == 3 and all(p.startswith("skipped http://arxiv.org/abs/") for p in problems)
    assert any("bogus-0: “bogus-0” is not an arXiv id" in p for p in problems)
    assert any("unreadable date (Invalid isoformat string: 'last Tuesday')" in p for p in problems)
    assert any(p.endswith(": no <published>") for p in problems)
    # Broken entries still hold their places in arXiv's list: the second page started after them.
    starts = [q.split("start=")[1].split("&")[0] for _, q in fake_arxiv.requests]
    assert starts == ["0", "5"]
    source.refresh_from_db()
    assert source.high_water_mark is not None  # the day's pages were all read


def test_a_title_of_megabytes_is_cut_and_the_cut_recorded(harvest_settings, fake_arxiv, source):
    fake_arxiv.set_entries([entry(MON, "2506.30001", title="Huge" * 750_000), entry(MON, "2506.30002")])

    run = harvest.harvest_source(source.pk, since=MON, until=MON)

    assert run.status == "succeeded", run.error
    assert (run.created_count, run.trimmed_entries, run.skipped_entries) == (2, 1, 0)
    assert len(Paper.objects.get(arxiv_id="2506.30001").title) == 1000
    assert run.entry_problems == ["trimmed 2506.30001: title cut from 3,000,000 to 1,000 characters"]


def test_only_the_first_problems_are_kept(harvest_settings, fake_arxiv, source):
    harvest_settings.ARXIV_PAGE_SIZE = 50
    fake_arxiv.set_entries(entries_on(MON, 30))
    fake_arxiv.add_fault("invalid", count=30)

    run = harvest.harvest_source(source.pk, since=MON, until=MON)

    assert run.skipped_entries == 30
    assert len(run.entry_problems) == harvest.ENTRY_PROBLEMS_KEPT


def test_a_by_id_fetch_records_a_broken_entry(harvest_settings, fake_arxiv, curator):
    fake_arxiv.set_entries([entry(MON, "2506.30003")])
    fake_arxiv.add_fault("invalid", count=1)

    [result] = harvest.add_papers_by_id(["2506.30003"], by=curator)

    assert result == {
        "input": "2506.30003",
        "arxiv_id": "2506.30003",
        "status": "error",
        "message": "2506.30003 was not found on arXiv.",
    }
    run = HarvestRun.objects.get(kind="fetch")
    assert (run.status, run.skipped_entries) == ("partial", 1)
    assert "bogus-0" in run.entry_problems[0]
