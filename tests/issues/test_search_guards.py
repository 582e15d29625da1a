"""Public search against hostile and heavy use: bounded queries, its own throttle, a busy answer, a time limit.

Also the query language on every database: ``-word`` excludes and ``or`` means either
(on SQLite both used to be ignored: "transformer -video" returned exactly the picks
that mention video, "gan or vae" required both).
"""

import pytest
from django.db import connection
from django.db.models.expressions import RawSQL

from issues import search as public_search
from issues.models import Pick
from tests.conftest import make_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def picks():
    issue = make_issue(picks=4, status="published")
    rows = list(issue.picks.order_by("position"))
    texts = [
        "A transformer for video understanding.",
        "A transformer for text, no moving pictures.",
        "Generative adversarial networks (GAN) for faces.",
        "A VAE with a discrete latent.",
    ]
    for pick, text in zip(rows, texts, strict=True):
        Pick.objects.filter(pk=pick.pk).update(why=text)
    return rows


def found(client, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return {pick.pk for pick in response.context["page"].object_list}


@pytest.mark.parametrize("query", ["-" * 33, "(-" * 50, "-" * 400, '"' * 200, "or " * 60, "\\" * 99])
def test_operator_noise_is_an_empty_search_not_a_500(client, picks, query):
    # PostgreSQL answered these with "tsquery stack too small", a 500 for any reader.
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    assert "0 results" in response.content.decode()


@pytest.mark.parametrize("query", ["-" * 33, "(-" * 50, "-" * 400])
def test_the_api_and_the_triage_queue_take_the_same_noise(client, picks, curator, query):
    # The API's ?q= and the queue's search box go through papers.search too.
    # (The API refuses a q of more than its maximum length with its 400 first.)
    assert client.get("/api/v1/picks/", {"q": query}).status_code in (200, 400)
    client.force_login(curator)
    assert client.get(f"/triage/issues/{picks[0].issue_id}/", {"q": query}).status_code == 200


def test_minus_excludes_and_or_means_either(client, picks):
    video, text, gan, vae = (pick.pk for pick in picks)
    assert found(client, "transformer -video") == {text}
    assert found(client, "transformer") == {video, text}
    assert found(client, "gan or vae") == {gan, vae}
    assert found(client, '"discrete latent" or -faces gan') == {vae}
    assert found(client, "transformer video or vae") == {video, vae}


def test_searches_past_the_rate_get_429_with_retry_after_and_other_pages_still_serve(client, picks, settings):
    settings.SEARCH_RATE_PER_MINUTE = 3
    for _ in range(3):
        assert client.get("/search/", {"q": "transformer"}).status_code == 200

    refused = client.get("/search/", {"q": "transformer"})

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 61  # until enough searches leave the rolling minute
    assert "Too many searches from your address" in refused.content.decode()
    assert client.get("/search/").status_code == 200  # the form alone searches nothing
    assert client.get(picks[0].issue.get_absolute_url()).status_code == 200
    # Another reader (address) is not held back by this one.
    assert client.get("/search/", {"q": "transformer"}, REMOTE_ADDR="192.0.2.7").status_code == 200


def test_a_refused_search_touches_no_database(client, picks, settings, django_assert_num_queries):
    settings.SEARCH_RATE_PER_MINUTE = 1
    client.get("/search/", {"q": "transformer"})
    with django_assert_num_queries(0):
        assert client.get("/search/", {"q": "transformer"}).status_code == 429


def test_once_refused_a_flooding_client_costs_no_cache_round_trip(client, picks, settings, monkeypatch):
    from django.core.cache import cache

    settings.SEARCH_RATE_PER_MINUTE = 2
    for _ in range(3):
        client.get("/search/", {"q": "transformer"})

    def no_round_trip(*args, **kwargs):
        raise AssertionError("asked Redis")

    monkeypatch.setattr("curation.limits.count_in_window", no_round_trip)
    monkeypatch.setattr(cache, "get_many", no_round_trip)
    assert client.get("/search/", {"q": "transformer"}).status_code == 429


def test_searches_beyond_the_deployment_concurrency_get_a_quick_503(client, picks, settings):
    settings.SEARCH_CONCURRENCY = 1
    with public_search.search_slot():  # another thread's search, still running
        response = client.get("/search/", {"q": "transformer"})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Search is busy right now" in response.content.decode()
    assert client.get("/search/", {"q": "transformer"}).status_code == 200  # the slot is free again


def test_with_the_cache_down_searches_go_ahead_unguarded(client, picks, settings, monkeypatch):
    from django.core.cache import cache

    settings.SEARCH_RATE_PER_MINUTE = 1
    # What the counters and the resilient cache answer while Redis is away: nothing, never errors.
    monkeypatch.setattr("curation.limits.count_in_window", lambda *args, **kwargs: 0)
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)
    monkeypatch.setattr(cache, "get_many", lambda *args, **kwargs: {})
    for _ in range(3):
        assert found(client, "transformer -video") == {picks[1].pk}


@pytest.mark.postgres
def test_a_search_past_the_statement_timeout_answers_503_and_the_site_goes_on(
    client, picks, settings, monkeypatch
):
    settings.SEARCH_STATEMENT_TIMEOUT_MS = 50
    search_published = public_search.search_published

    def slow(filters):
        return search_published(filters).annotate(nap=RawSQL("pg_sleep(0.5)", []))

    monkeypatch.setattr("issues.views.search_published", slow)
    response = client.get("/search/", {"q": "transformer"})

    assert response.status_code == 503
    assert "The search took longer than 0.05 s" in response.content.decode()
    monkeypatch.undo()
    assert found(client, "transformer -video") == {picks[1].pk}


def test_search_query_count(client, picks, django_assert_num_queries):
    # 1 facet years, 2 facet categories, 3 the count, 4 the page of results; on PostgreSQL the
    # count and the page run in a transaction with its statement_timeout: SAVEPOINT (here, inside
    # the test's transaction; BEGIN in production), set_config, RELEASE SAVEPOINT.
    with django_assert_num_queries(7 if connection.vendor == "postgresql" else 4):
        client.get("/search/", {"q": "transformer -video"})
