from django.contrib.sitemaps.views import sitemap
from django.urls import path, re_path
from django.views.decorators.http import require_safe

from . import feeds, preview, views
from .page_cache import cached_public_page
from .sitemaps import SITEMAPS

app_name = "issues"

urlpatterns = [
    path("", views.home, name="home"),
    path("issues/", views.archive, name="archive"),
    path("issues/<slug:slug>/", views.issue_detail, name="issue"),
    re_path(r"^papers/(?P<arxiv_id>[\w.\-]+(?:/\d{7})?)/$", views.paper_detail, name="paper"),
    path("authors/<slug:slug>/", views.author_detail, name="author"),
    path("search/", views.search, name="search"),
    path("about/", views.about, name="about"),
    path("feeds/atom.xml", feeds.atom_feed, name="feed-atom"),
    path("feeds/rss.xml", feeds.rss_feed, name="feed-rss"),
    path("feeds/feed.json", feeds.json_feed, name="feed-json"),
    path(
        "sitemap.xml",
        require_safe(cached_public_page(sitemap)),
        {"sitemaps": SITEMAPS},
        name="sitemap",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    # Signed, expiring draft previews for outsiders (issues/preview.py).
    path("preview/<str:token>/", preview.preview_issue, name="issue_preview"),
]
