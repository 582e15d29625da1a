"""The public pages as a reader sees them: issue, home, archive, paper, author, search, about."""

import json
import re
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse

from issues.models import Issue, Pick
from papers.models import Author
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo")
    return Issue.objects.get(slug="april-2021")


def set_published_at(issue, when):
    Issue.objects.filter(pk=issue.pk).update(published_at=when, updated_at=when)
    issue.refresh_from_db()
    return issue


def html_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# The issue page -----------------------------------------------------------------


def test_demo_issue_reads_like_the_reference(client, demo):
    html = html_of(client, "/issues/april-2021/")
    assert html.count("<h1") == 1
    assert "<h1>April 2021</h1>" in html
    assert demo.subtitle in html
    assert "By The curation team" in html
    assert 'datetime="2021-04-06T09:00:00+00:00"' in html
    # Numbered picks, each title linked to arXiv, in order.
    first = demo.picks.get(position=1)
    assert '<span class="pick-number">1.</span> <a href="https://arxiv.org/abs/2103.10360">' in html
    assert html.index('id="pick-1"') < html.index('id="pick-2"') < html.index('id="pick-10"')
    # Code links say what they are, for screen readers too.
    assert f'<a class="code-link" href="{first.code_url}">Code<span class="visually-hidden"> for “' in html
    # "By A, B, and C." with links to the author pages.
    assert ', and <a href="/authors/jie-tang/">Jie Tang</a>.</p>' in html
    assert "<h3>Why</h3>" in html and "<h3>Key insights</h3>" in html
    # The figure with its caption and credit, lazy-loaded with its size.
    figure = Pick.objects.get(issue=demo, position=9).figures.get()
    assert f'alt="{figure.alt_text}"' in html
    assert 'loading="lazy"' in html and f'width="{figure.width}"' in html
    assert "Source:" in html


def test_footnote_markers_link_to_references_and_back(client, demo):
    html = html_of(client, demo.get_absolute_url())
    assert demo.references, "the demo cites works"
    for ref in demo.references:
        assert f'<li id="ref-{ref["number"]}">' in html
        for backref in ref["backrefs"]:
            # The marker in the text links down to the reference, the reference back up to it.
            assert re.search(rf'<a href="#ref-{ref["number"]}" id="{backref}">', html)
            assert f'href="#{backref}"' in html
    numbers = [int(n) for n in re.findall(r'<li id="ref-(\d+)">', html)]
    assert numbers == list(range(1, len(demo.references) + 1))


def test_issue_page_has_canonical_social_cards_and_json_ld(client, demo):
    html = html_of(client, demo.get_absolute_url())
    assert '<link rel="canonical" href="http://127.0.0.1:8000/issues/april-2021/">' in html
    assert '<meta property="og:title" content="April 2021">' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta name="twitter:card"' in html
    for feed in ("application/atom+xml", "application/rss+xml", "application/feed+json"):
        assert f'<link rel="alternate" type="{feed}"' in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(block)
    assert data["@type"] == "Article" and data["headline"] == "April 2021"
    assert data["datePublished"].startswith("2021-04-06")
    assert len(data["citation"]) == 10
    assert data["citation"][0]["url"] == "https://arxiv.org/abs/2103.10360"


def test_json_ld_cannot_be_closed_by_a_title(client):
    issue = make_issue(picks=1, status="published", title="Oops </script><script>alert(1)</script>")
    html = html_of(client, issue.get_absolute_url())
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert json.loads(block)["headline"].startswith("Oops </script>")


def test_previous_and_next_issue_links(client):
    old = set_published_at(
        make_issue(slug="january-2021", picks=1, status="published"), datetime(2021, 2, 5, tzinfo=UTC)
    )
    mid = set_published_at(
        make_issue(slug="february-2021", picks=1, status="published"), datetime(2021, 3, 5, tzinfo=UTC)
    )
    new = set_published_at(
        make_issue(slug="march-2021", picks=1, status="published"), datetime(2021, 4, 5, tzinfo=UTC)
    )
    html = html_of(client, mid.get_absolute_url())
    assert f'<a rel="prev" href="{old.get_absolute_url()}">' in html
    assert f'<a rel="next" href="{new.get_absolute_url()}">' in html
    assert 'rel="prev"' not in html_of(client, old.get_absolute_url())
    assert 'rel="next"' not in html_of(client, new.get_absolute_url())


def test_correction_shows_updated_date(client):
    issue = make_issue(picks=1, status="published")
    Issue.objects.filter(pk=issue.pk).update(updated_at=datetime(2031, 5, 2, tzinfo=UTC))
    html = html_of(client, issue.get_absolute_url())
    assert 'Updated <time datetime="2031-05-02T00:00:00+00:00">May 2, 2031</time>' in html


def test_home_without_any_issue_says_so(client):
    html = html_of(client, "/")
    assert "No issue has been published yet" in html


def test_home_shows_latest_issue_with_a_permalink(client):
    set_published_at(make_issue(slug="old", picks=1, status="published"), datetime(2021, 2, 5, tzinfo=UTC))
    set_published_at(make_issue(slug="new", picks=1, status="published"), datetime(2021, 4, 5, tzinfo=UTC))
    html = html_of(client, "/")
    assert "<h1>New</h1>" in html
    assert '<a href="/issues/new/">Permanent link to this issue</a>' in html
    assert '<a rel="prev" href="/issues/old/">' in html


# Archive, paper, author, about -----------------------------------------------------


def test_archive_lists_issues_by_year_with_pick_titles(client):
    a = set_published_at(
        make_issue(slug="dec-2020", picks=2, status="published"), datetime(2020, 12, 5, tzinfo=UTC)
    )
    b = set_published_at(
        make_issue(slug="jan-2021", picks=1, status="published"), datetime(2021, 1, 5, tzinfo=UTC)
    )
    html = html_of(client, reverse("issues:archive"))
    assert (
        html.index('id="year-2021"')
        < html.index(b.title)
        < html.index('id="year-2020"')
        < html.index(a.title)
    )
    for pick in Pick.objects.filter(issue__in=[a, b]):
        assert pick.title in html
    assert "A test issue" in html and "December 5, 2020" in html


def test_paper_page_shows_abstract_authors_and_every_published_pick(client, demo):
    html = html_of(client, "/papers/2103.10360/")
    pick = demo.picks.get(position=1)
    assert f"<h1>{pick.paper.title}</h1>" in html
    assert pick.paper.abstract[:60] in html
    assert 'href="/issues/april-2021/#pick-1"' in html
    assert 'href="https://arxiv.org/pdf/2103.10360' in html
    # Footnote markers point into the issue; no dangling ids on this page.
    assert 'href="#ref-' not in html and 'id="fnref-' not in html


def test_paper_page_without_an_abstract_has_no_empty_abstract_heading(client, demo):
    # The demo's papers come without abstracts (the reference data has none).
    assert demo.picks.get(position=9).paper.abstract == ""
    html = html_of(client, "/papers/2103.03230/")
    assert "Abstract" not in html and 'class="abstract"' not in html
    paper = make_issue(slug="with-abstract", status="published", picks=1).picks.get().paper
    html = html_of(client, paper.get_absolute_url())
    assert '<h2 id="abstract-heading">Abstract</h2>' in html and paper.abstract in html


def test_a_hugging_face_model_link_is_called_a_model(client):
    issue = make_issue(slug="models", status="published", picks=1)
    pick = issue.picks.get()
    Pick.objects.filter(pk=pick.pk).update(code_url="https://huggingface.co/MiniMaxAI/MiniMax-M1-80k")
    html = html_of(client, "/issues/models/")
    assert (
        'href="https://huggingface.co/MiniMaxAI/MiniMax-M1-80k">Model<span class="visually-hidden">' in html
    )
    assert ">Code<" not in html


def test_author_page_lists_picked_papers(client, demo):
    author = Author.objects.get(slug="jie-tang")
    html = html_of(client, author.get_absolute_url())
    assert "<h1>Jie Tang</h1>" in html
    assert "All NLP Tasks Are Generation Tasks" in html and "GPT Understands, Too" in html
    assert 'href="/issues/april-2021/#pick-2"' in html


def test_paper_and_author_without_published_pick_are_404(client):
    paper = make_paper(authors=[("Lonely Writer", "")])
    assert client.get(paper.get_absolute_url()).status_code == 404
    assert client.get(Author.objects.get(name="Lonely Writer").get_absolute_url()).status_code == 404


def test_about_page_uses_the_setting(client, settings):
    settings.SITE_ABOUT = "We read arXiv so you don't have to."
    assert "We read arXiv so you don&#x27;t have to." in html_of(client, reverse("issues:about"))


def test_friendly_404_and_500_pages(client):
    response = client.get("/issues/no-such-issue/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html and 'href="/issues/"' in html
    assert "Something went wrong on our side" in render_to_string("500.html")


def test_robots_and_sitemap(client, demo):
    robots = client.get("/robots.txt")
    assert robots["Content-Type"].startswith("text/plain")
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in robots.content.decode()
    xml = client.get("/sitemap.xml").content.decode()
    for path in ("/issues/april-2021/", "/papers/2103.10360/", "/authors/jie-tang/", "/issues/", "/about/"):
        assert f"<loc>http://127.0.0.1:8000{path}</loc>" in xml
    assert "<lastmod>" in xml


# Search --------------------------------------------------------------------------


def test_search_finds_titles_commentary_abstracts_and_authors(client, demo):
    def results(q):
        return html_of(client, f"/search/?q={q}")

    assert "GPT <mark>Understands</mark>, Too" in results("understands")  # title, highlighted
    assert 'href="/issues/april-2021/#pick-4"' in results("JPEG")  # commentary
    html = results("Mordatch")  # author
    assert "Pretrained Transformers as Universal Computation Engines" in html
    html = results("transformers")
    assert "<mark>" in html and 'class="snippet"' in html


def test_search_snippets_escape_what_they_quote(client):
    make_issue(picks=1, status="published")
    pick = Pick.objects.get()
    Pick.objects.filter(pk=pick.pk).update(why='Beware <script>alert("x")</script> zebrafish tricks.')
    html = html_of(client, "/search/?q=zebrafish")
    assert "<script>alert" not in html
    # Shown as text (PostgreSQL's ts_headline drops the tag, the fallback escapes it), never run.
    assert "alert(&quot;x&quot;)" in html and "<mark>zebrafish</mark>" in html


def test_search_filters_by_year_and_category(client):
    set_published_at(make_issue(slug="y2020", picks=1, status="published"), datetime(2020, 6, 1, tzinfo=UTC))
    b = set_published_at(
        make_issue(slug="y2021", picks=1, status="published"), datetime(2021, 6, 1, tzinfo=UTC)
    )
    pb = b.picks.get().paper
    pa_link, pb_link = 'href="/issues/y2020/#pick-1"', 'href="/issues/y2021/#pick-1"'
    pb.categories = ["cs.CV"]
    pb.primary_category = "cs.CV"
    pb.save(update_fields=["categories", "primary_category"])
    html = html_of(client, "/search/?q=topic&year=2020")
    assert pa_link in html and pb_link not in html
    html = html_of(client, "/search/?q=topic&category=cs.CV")
    assert pb_link in html and pa_link not in html
    html = html_of(client, "/search/?q=topic")
    assert '<option value="2021">' in html and '<option value="cs.CV">' in html


def test_search_is_paginated(client):
    make_issue(picks=12, status="published")
    html = html_of(client, "/search/?q=topic")
    assert "12 results" in html and html.count('class="result"') == 10
    assert 'rel="next" href="?q=topic&amp;page=2"' in html
    html = html_of(client, "/search/?q=topic&page=2")
    assert html.count('class="result"') == 2
    # Nonsense page numbers land on a real page instead of an error.
    assert client.get("/search/?q=topic&page=zzz").status_code == 200
    assert client.get("/search/?q=topic&year=abc").status_code == 200


def test_empty_search_shows_the_form(client):
    html = html_of(client, "/search/")
    assert '<input id="search-q" type="search" name="q"' in html and "result" not in html.split("</form>")[1]


# Query counts: the same whatever the number of picks -------------------------------


@pytest.mark.parametrize("picks", [1, 10])
def test_page_query_counts_do_not_grow_with_picks(client, django_assert_num_queries, picks):
    issue = make_issue(picks=picks, status="published")
    paper = issue.picks.first().paper
    author = Author.objects.get(name="Shared Author")

    # Every cached page starts with 1 the publication version (issues/page_cache.py); then
    # 2 the issue with its stored page (none yet), 3 the issue with previous/next, 4 picks+papers,
    # 5 authorships+authors, 6 figures, 7 storing the rendered picks for the next reader
    with django_assert_num_queries(7):
        client.get(issue.get_absolute_url())
    # the home page shows the same issue: 2 the latest issue, whose stored picks are current
    with django_assert_num_queries(2):
        client.get("/")
    # 2 the issues, 3 their picks with paper titles
    with django_assert_num_queries(3):
        client.get("/issues/")
    # 2 the paper, 3 its authorships+authors, 4 its published picks with issues
    with django_assert_num_queries(4):
        client.get(paper.get_absolute_url())
    # 2 the author, 3 their picks with issues+papers, 4 those papers' authorships+authors
    with django_assert_num_queries(4):
        client.get(author.get_absolute_url())
    # 1 facet years, 2 facet categories, 3 result count, 4 the page of results; on PostgreSQL
    # 3 and 4 run under a statement_timeout: + SAVEPOINT, set_config, RELEASE SAVEPOINT
    with django_assert_num_queries(7 if connection.vendor == "postgresql" else 4):
        client.get("/search/?q=topic")
    # 2 the issues, 3 picks+papers, 4 authorships+authors, 5 figures — per feed
    for feed in ("/feeds/atom.xml", "/feeds/rss.xml", "/feeds/feed.json"):
        with django_assert_num_queries(5):
            client.get(feed)
