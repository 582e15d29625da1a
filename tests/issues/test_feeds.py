"""Atom, RSS and JSON Feed: valid, one entry per published issue, the full commentary inside."""

import json

import feedparser
import pytest
from django.core.management import call_command

from issues.models import Issue
from issues.templatetags.public_tags import fragments_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo")
    return Issue.objects.get(slug="april-2021")


@pytest.mark.parametrize("url", ["/feeds/atom.xml", "/feeds/rss.xml"])
def test_xml_feeds_parse_and_carry_the_whole_issue(client, demo, url):
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.feed.title == "Best of arXiv"
    assert len(feed.entries) == 1
    entry = feed.entries[0]
    assert entry.link == "http://127.0.0.1:8000/issues/april-2021/"
    assert entry.title.startswith("April 2021")
    body = entry.content[0].value if "content" in entry else entry.description
    for pick in demo.picks.all():
        assert pick.paper.abs_url in body
    # Full commentary: every pick's Why text, not a summary (footnote links made absolute).
    for pick in demo.picks.all():
        assert fragments_to(pick.why_html, entry.link)[:80] in body
    assert 'href="http://127.0.0.1:8000/authors/jie-tang/"' in body
    assert entry.published_parsed[:3] == (2021, 4, 6)


def test_atom_feed_has_summary_and_content(client, demo):
    feed = feedparser.parse(client.get("/feeds/atom.xml").content)
    entry = feed.entries[0]
    assert entry.summary == demo.subtitle
    assert entry.content[0].type == "text/html"
    assert entry.id == "http://127.0.0.1:8000/issues/april-2021/"


def test_json_feed_1_1(client, demo):
    response = client.get("/feeds/feed.json")
    assert response["Content-Type"].startswith("application/feed+json")
    data = json.loads(response.content)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["feed_url"] == "http://127.0.0.1:8000/feeds/feed.json"
    [item] = data["items"]
    assert item["id"] == item["url"] == "http://127.0.0.1:8000/issues/april-2021/"
    assert item["title"] == "April 2021" and item["summary"] == demo.subtitle
    assert item["date_published"].startswith("2021-04-06")
    for pick in demo.picks.all():
        assert fragments_to(pick.key_insights_html, item["url"])[:80] in item["content_html"]
    assert "cs.CL" in item["tags"]


def test_feeds_list_newest_first(client):
    from datetime import UTC, datetime

    from tests.conftest import make_issue

    for slug, month in (("jan", 1), ("mar", 3), ("feb", 2)):
        issue = make_issue(slug=slug, picks=1, status="published")
        Issue.objects.filter(pk=issue.pk).update(published_at=datetime(2021, month, 5, tzinfo=UTC))
    feed = feedparser.parse(client.get("/feeds/atom.xml").content)
    assert [e.link.rsplit("/", 2)[-2] for e in feed.entries] == ["mar", "feb", "jan"]
    items = json.loads(client.get("/feeds/feed.json").content)["items"]
    assert [i["url"].rsplit("/", 2)[-2] for i in items] == ["mar", "feb", "jan"]


def test_pages_advertise_the_feeds(client, demo):
    html = client.get("/").content.decode()
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Best of arXiv (Atom)" href="/feeds/atom.xml">'
        in html
    )
    assert 'type="application/feed+json"' in html and 'type="application/rss+xml"' in html
