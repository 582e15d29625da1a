"""Feeds are read away from the issue page: footnote and back-links point into the issue, absolutely."""

import json
import re

import feedparser
import pytest

from tests.conftest import make_issue

pytestmark = pytest.mark.django_db
ISSUE_URL = "http://127.0.0.1:8000/issues/cited/"


@pytest.fixture
def cited():
    return make_issue(
        slug="cited",
        picks=1,
        status="published",
        intro="See the paper[^p].\n\n[^p]: https://p.example A paper",
    )


def _bodies(client):
    atom = feedparser.parse(client.get("/feeds/atom.xml").content).entries[0].content[0].value
    rss = feedparser.parse(client.get("/feeds/rss.xml").content).entries[0].description
    jsonfeed = json.loads(client.get("/feeds/feed.json").content)["items"][0]["content_html"]
    return {"atom": atom, "rss": rss, "json": jsonfeed}


def test_feed_footnote_links_are_absolute(client, cited):
    for kind, body in _bodies(client).items():
        assert f'href="{ISSUE_URL}#ref-1"' in body, kind  # the marker
        assert f'href="{ISSUE_URL}#fnref-1-1"' in body, kind  # the back-link
        assert not re.search(r'href="#', body), kind  # no bare fragment left


def test_the_issue_page_keeps_its_fragment_links(client, cited):
    page = client.get("/issues/cited/").content.decode()
    assert 'href="#ref-1"' in page and 'href="#fnref-1-1"' in page
