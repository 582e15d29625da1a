"""Atom, RSS and JSON Feed 1.1: one entry per published issue, with its full content.

Links are absolute on ``SITE_URL`` (not the request's host) so that every
copy of a feed names the same canonical addresses.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.views.decorators.http import require_safe

from .models import Issue
from .page_cache import cached_public_page

FEED_SIZE = 20


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def feed_issues():
    # 1 the issues, 2 picks+papers, 3 authorships+authors, 4 figures
    return list(Issue.objects.for_public_page().latest_first()[:FEED_SIZE])


def issue_content_html(issue):
    """The issue's full body as feed readers show it."""
    return render_to_string("issues/feed_content.html", {"issue": issue, "SITE_URL": settings.SITE_URL})


class AtomWithContent(Atom1Feed):
    """Atom with the full issue in <content>, the subtitle in <summary>."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content_html"):
            handler.addQuickElement("content", item["content_html"], {"type": "html"})


class IssueFeed(Feed):
    feed_type = Rss201rev2Feed
    feed_path = "issues:feed-rss"

    def title(self):
        return settings.SITE_NAME

    def description(self):
        return settings.SITE_ABOUT

    subtitle = description

    def link(self):
        return absolute(reverse("issues:home"))

    def feed_url(self):
        return absolute(reverse(self.feed_path))

    def items(self):
        return feed_issues()

    def item_title(self, issue):
        return f"{issue.title}: {issue.subtitle}" if issue.subtitle else issue.title

    def item_link(self, issue):
        return absolute(issue.get_absolute_url())

    def item_guid(self, issue):
        return absolute(issue.get_absolute_url())

    item_guid_is_permalink = True

    def item_description(self, issue):
        # RSS has one text field: it carries the whole issue.
        return issue_content_html(issue)

    def item_author_name(self, issue):
        return issue.byline or settings.SITE_NAME

    def item_pubdate(self, issue):
        return issue.published_at

    def item_updateddate(self, issue):
        return issue.updated_at


class AtomIssueFeed(IssueFeed):
    feed_type = AtomWithContent
    feed_path = "issues:feed-atom"

    def item_description(self, issue):
        return issue.subtitle or issue.title

    def item_extra_kwargs(self, issue):
        return {"content_html": issue_content_html(issue)}


rss_feed = require_safe(cached_public_page(IssueFeed()))
atom_feed = require_safe(cached_public_page(AtomIssueFeed()))


@require_safe
@cached_public_page
def json_feed(request):
    issues = feed_issues()
    data = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": settings.SITE_NAME,
        "home_page_url": absolute(reverse("issues:home")),
        "feed_url": absolute(reverse("issues:feed-json")),
        "description": settings.SITE_ABOUT,
        "language": "en",
        "authors": [{"name": settings.SITE_NAME, "url": absolute(reverse("issues:about"))}],
        "items": [
            {
                "id": absolute(issue.get_absolute_url()),
                "url": absolute(issue.get_absolute_url()),
                "title": issue.title,
                "summary": issue.subtitle,
                "content_html": issue_content_html(issue),
                "date_published": issue.published_at.isoformat(),
                "date_modified": issue.updated_at.isoformat(),
                "authors": [{"name": issue.byline or settings.SITE_NAME}],
                "tags": sorted({pick.paper.primary_category for pick in issue.picks.all()}),
            }
            for issue in issues
        ],
    }
    return JsonResponse(data, content_type="application/feed+json", json_dumps_params={"ensure_ascii": False})
