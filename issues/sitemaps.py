"""sitemap.xml: published issues, the papers and authors they picked, the fixed pages.

URLs are on ``SITE_URL``'s host, not the request's, like the feeds.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Issue, Pick


class CanonicalSitemap(Sitemap):
    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme or "https"


class IssueSitemap(CanonicalSitemap):
    changefreq = "monthly"
    priority = 0.8

    def items(self):
        return Issue.objects.published().latest_first().only("slug", "updated_at")

    def lastmod(self, issue):
        return issue.updated_at


class PaperSitemap(CanonicalSitemap):
    changefreq = "monthly"
    priority = 0.5

    def items(self):
        return Pick.objects.published().papers().order_by("arxiv_id").only("arxiv_id")


class AuthorSitemap(CanonicalSitemap):
    changefreq = "monthly"
    priority = 0.3

    def items(self):
        return Pick.objects.published().authors().order_by("slug").only("slug")


class PageSitemap(CanonicalSitemap):
    changefreq = "weekly"
    priority = 0.6

    def items(self):
        return ["issues:home", "issues:archive", "issues:about"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "pages": PageSitemap,
    "issues": IssueSitemap,
    "papers": PaperSitemap,
    "authors": AuthorSitemap,
}
