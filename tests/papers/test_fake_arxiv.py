"""The fake arXiv answers like arXiv: queries, paging, sorting, errors, faults, real samples."""

from datetime import UTC, date, datetime
from pathlib import Path

import arxiv
import pytest
import requests
from arxiv import _feed

from papers.arxiv_api import ArxivClient, ArxivMalformed, record_from_result
from papers.ingest import import_entries
from papers.models import Paper
from tests.papers.harvest_entries import entry

FIXTURES = Path(__file__).parent / "fixtures"
MON, TUE = date(2025, 6, 2), date(2025, 6, 3)


def _client(server):
    client = arxiv.Client(page_size=2, delay_seconds=0, num_retries=0)
    client.query_url_format = server.url + "?{}"
    return client


def test_the_arxiv_package_reads_the_fake_server(fake_arxiv):
    fake_arxiv.set_entries(
        [
            entry(MON, "2506.00001", categories=["cs.LG"]),
            entry(TUE, "2506.00002", categories=["cs.CL", "cs.LG"]),
            entry(TUE, "2506.00003", categories=["cs.CV"]),
            entry(TUE, "2506.00004", categories=["math.AG"]),
        ]
    )
    search = arxiv.Search(
        query="(cat:cs.LG OR cat:cs.CV) AND submittedDate:[202506030000 TO 202506032359]",
        max_results=None,
        sort_by=arxiv.SortCriterion.SubmittedDate,
        sort_order=arxiv.SortOrder.Ascending,
    )
    results = list(_client(fake_arxiv).results(search))
    assert [r.get_short_id() for r in results] == ["2506.00002v1", "2506.00003v1"]
    assert results[0].primary_category == "cs.CL"
    assert results[0].authors[0].affiliation == ["Analytical Engine Ltd"]

    by_id = list(_client(fake_arxiv).results(arxiv.Search(id_list=["2506.00004", "2506.00001v1"])))
    assert [r.get_short_id() for r in by_id] == ["2506.00004v1", "2506.00001v1"]


def test_paging_and_sorting(fake_arxiv):
    fake_arxiv.set_entries([entry(MON, hour=h) for h in range(5)])
    params = {"search_query": "cat:cs.LG", "sortBy": "submittedDate", "sortOrder": "descending"}
    page = _feed.parse(requests.get(fake_arxiv.url, params={**params, "start": 1, "max_results": 2}).content)
    assert page.header.total_results == 5
    assert page.header.start_index == 1
    times = [r.published for r in page.results]
    assert len(times) == 2 and times[0] > times[1]


def test_a_bad_id_is_arxivs_http_400_error_feed(fake_arxiv):
    response = requests.get(fake_arxiv.url, params={"id_list": "abc"})
    assert response.status_code == 400
    assert b"incorrect id format for abc" in response.content


@pytest.mark.parametrize(
    "kind,options,status",
    [
        ("status", {"status": 503}, 503),
        ("status", {"status": 429, "retry_after": "3"}, 429),
        ("empty", {}, 200),
    ],
)
def test_faults(fake_arxiv, kind, options, status):
    fake_arxiv.set_entries([entry(MON)])
    fake_arxiv.add_fault(kind, **options)
    response = requests.get(fake_arxiv.url, params={"search_query": "cat:cs.LG"})
    assert response.status_code == status
    if "retry_after" in options:
        assert response.headers["Retry-After"] == "3"
    if kind == "empty":
        assert _feed.parse(response.content).results == []
    # The fault was used up: the next request is normal.
    assert (
        len(_feed.parse(requests.get(fake_arxiv.url, params={"search_query": "cat:cs.LG"}).content).results)
        == 1
    )


def test_malformed_xml_is_caught_even_though_lxml_would_recover(harvest_settings, fake_arxiv):
    fake_arxiv.set_entries([entry(MON) for _ in range(3)])
    fake_arxiv.add_fault("malformed")
    with pytest.raises(ArxivMalformed, match="malformed XML at start=0"):
        ArxivClient().fetch_page(arxiv.Search(query="cat:cs.LG"), 0, 10)


@pytest.mark.django_db
def test_the_real_current_format_sample_parses_into_the_right_papers():
    feed = _feed.parse((FIXTURES / "lukasschwab_arxiv.py__search_q-testing_start0_max10.xml").read_bytes())
    records = [record_from_result(r) for r in feed.results]
    assert len(records) == 10
    first = records[0]
    assert (first.arxiv_id, first.version, first.primary_category) == ("2202.12139", 1, "cs.SE")
    assert first.categories == ["cs.SE", "cs.LG"]
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    assert first.submitted_at == datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC)
    result = import_entries(records)
    assert len(result.created) == 10
    assert Paper.objects.get(arxiv_id="2202.12139").authors.count() == 3


@pytest.mark.django_db
def test_the_real_legacy_format_sample_parses_and_drops_non_arxiv_categories():
    feed = _feed.parse((FIXTURES / "ewan-m_ewan-m.github.io__search_all-science_2019.xml").read_bytes())
    records = [record_from_result(r) for r in feed.results]
    assert len(records) == 10
    for record in records:
        assert record.title == " ".join(record.title.split())
        assert all("," not in c and ";" not in c and " " not in c for c in record.categories)
        assert record.categories[0] == record.primary_category
    import_entries(records)
    assert Paper.objects.count() == 10
