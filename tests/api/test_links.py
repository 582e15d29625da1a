"""Every absolute link in the API's JSON comes from SITE_URL, never from the request's Host.

A client may send any Host header; if links followed it, a request with
``Host: x:6666`` would write links to x:6666 into the shared cache, and every
other client would get them for minutes.
"""

import json
import re

import pytest

from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db

SITE = "http://127.0.0.1:8000"
POISON = "x:6666"
READS = [
    "/api/v1/issues/?page_size=1",
    "/api/v1/picks/?page_size=1",
    "/api/v1/papers/?page_size=1",
    "/api/v1/authors/?page_size=1",
    "/api/v1/issues/march-2021/",
    "/api/v1/authors/shared-author/",
]


def _links(body):
    return re.findall(r'https?://[^"\s]+', body)


@pytest.fixture
def two_issues(published):
    make_issue("february-2021", picks=2, status="published")
    return published


@pytest.mark.parametrize("url", READS)
def test_a_poisoned_host_never_reaches_the_links(anon, two_issues, settings, url):
    settings.ALLOWED_HOSTS = ["testserver", "x"]  # the port is not part of the match
    poisoned = anon.get(url, HTTP_HOST=POISON)
    assert poisoned.status_code == 200, poisoned.content
    # The next client, anonymous too, may be answered from the shared cache.
    clean = anon.get(url)
    for response in (poisoned, clean):
        body = response.content.decode()
        links = [link for link in _links(body) if "arxiv.org" not in link and "github.com" not in link]
        assert links, body[:300]
        assert all(link.startswith(f"{SITE}/") for link in links), links
        assert POISON not in body
    assert poisoned.content == clean.content


def test_next_and_previous_are_site_links(anon, two_issues, settings):
    settings.ALLOWED_HOSTS = ["*"]
    first = anon.get("/api/v1/picks/?page_size=2&has_code=false", HTTP_HOST=POISON).json()
    assert first["next"].startswith(f"{SITE}/api/v1/picks/?")
    assert "has_code=false" in first["next"] and "page_size=2" in first["next"]
    second = anon.get(first["next"].removeprefix(SITE), HTTP_HOST="other.example").json()
    assert second["previous"].startswith(f"{SITE}/api/v1/picks/?")


def test_a_host_outside_allowed_hosts_is_refused(anon, two_issues):
    response = anon.get("/api/v1/issues/", HTTP_HOST=POISON)
    assert response.status_code == 400
    assert POISON not in anon.get("/api/v1/issues/").content.decode()


def test_signed_in_clients_get_site_links_too(as_curator, draft, settings):
    settings.ALLOWED_HOSTS = ["*"]
    make_paper(), make_paper()  # two candidates in the draft's month: a next page
    queue = as_curator.get("/api/v1/issues/draft-issue/candidates/?page_size=1", HTTP_HOST=POISON).json()
    assert queue["next"].startswith(f"{SITE}/api/v1/issues/draft-issue/candidates/?")
    picks = as_curator.get("/api/v1/issues/draft-issue/picks/", HTTP_HOST=POISON).json()
    assert all(p["url"].startswith(f"{SITE}/") for p in picks)
    assert POISON not in json.dumps(picks)
