"""Anonymous public reads of issues and picks are kept in the shared cache, exactly invalidated."""

import pytest

from issues.editing import update_pick
from papers.ingest import import_entries
from tests.api.conftest import assert_error
from tests.conftest import make_issue, make_publisher, make_record

pytestmark = pytest.mark.django_db

READS = ["/api/v1/picks/?page_size=50", "/api/v1/issues/march-2021/", "/api/v1/issues/"]


@pytest.mark.parametrize("url", READS)
def test_a_second_anonymous_read_is_answered_from_the_cache(anon, published, url, django_assert_num_queries):
    first = anon.get(url)
    assert first.status_code == 200
    # 1 the publication version: the answer kept under it comes from the cache
    with django_assert_num_queries(1):
        again = anon.get(url)
    assert again.status_code == 200
    assert again.content == first.content
    assert again["ETag"] == first["ETag"] and again["Content-Type"] == "application/json"
    assert again["Cache-Control"] == first["Cache-Control"]
    # The stored answer still answers a conditional GET.
    with django_assert_num_queries(1):
        assert anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_each_query_string_is_its_own_answer(anon, published):
    one = anon.get("/api/v1/picks/?page_size=1").json()
    two = anon.get("/api/v1/picks/?page_size=2").json()
    assert len(one["results"]) == 1 and len(two["results"]) == 2


def test_a_correction_shows_at_once(anon, published):
    url = "/api/v1/issues/march-2021/"
    anon.get(url)
    pick = published.picks.get(position=1)
    update_pick(pick, by=make_publisher(), data={"why": "Corrected reason."}, lock_version=pick.lock_version)
    assert anon.get(url).json()["picks"][0]["why"] == "Corrected reason."


def test_publishing_a_new_issue_shows_at_once(anon, published):
    assert [i["slug"] for i in anon.get("/api/v1/issues/").json()["results"]] == ["march-2021"]
    make_issue("april-2021", picks=1, status="published")
    assert "april-2021" in [i["slug"] for i in anon.get("/api/v1/issues/").json()["results"]]


def test_a_harvested_new_version_of_a_picked_paper_shows_at_once(anon, client, published):
    paper = published.picks.get(position=1).paper
    anon.get("/api/v1/picks/?page_size=50")
    client.get(published.get_absolute_url())
    import_entries([make_record(paper.arxiv_id, version=2, title="A renamed paper")])
    picks = anon.get("/api/v1/picks/?page_size=50").json()["results"]
    assert [p["paper"]["version"] for p in picks if p["paper"]["arxiv_id"] == paper.arxiv_id] == [2]
    # The public page too (the page cache is invalidated by the same harvest).
    assert "arXiv now has version 2" in client.get(published.get_absolute_url()).content.decode()


def test_a_harvest_of_unpicked_papers_keeps_the_cache(anon, published, django_assert_num_queries):
    anon.get("/api/v1/issues/")
    import_entries([make_record()])
    with django_assert_num_queries(1):
        assert anon.get("/api/v1/issues/").status_code == 200


def test_cached_answers_still_count_against_the_rate(anon, published, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "5/minute"},
    }
    assert anon.get("/api/v1/picks/").status_code == 200
    assert anon.get("/api/v1/picks/").status_code == 200
    assert_error(anon.get("/api/v1/picks/"), 429, "throttled")


def test_bad_parameters_are_refused_before_the_cache(anon, published):
    assert anon.get("/api/v1/picks/").status_code == 200
    assert_error(anon.get("/api/v1/picks/?page_size=0"), 400)
    assert_error(anon.get("/api/v1/picks/?colour=red"), 400)


def test_signed_in_clients_are_answered_from_the_database(
    as_curator, anon, published, django_assert_num_queries
):
    anon.get("/api/v1/issues/")
    response = as_curator.get("/api/v1/issues/")
    assert response.status_code == 200
    with django_assert_num_queries(1):
        anon.get("/api/v1/issues/")
    # A token request costs its token lookup and the read itself, never a stored answer.
    with django_assert_num_queries(2):
        as_curator.get("/api/v1/issues/")
