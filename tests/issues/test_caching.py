"""Public pages are cached under the publication version, which only published changes replace.

A cache hit costs one query (the publication version) and answers 304s; every
change readers can see replaces the version in its own transaction; drafts,
reviews, schedules and previews never do.
"""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from curation.cache import ResilientRedisCache
from issues import page_cache
from issues.editing import add_pick, remove_pick, reorder_picks, save_issue, update_pick
from issues.figures import add_figure, remove_figure, update_figure
from issues.models import Issue, PublicationVersion
from issues.preview import make_preview_token
from issues.publishing import (
    publish_due_issues,
    publish_issue,
    schedule_issue,
    submit_for_review,
    unpublish_issue,
)
from papers.ingest import import_entries
from papers.links import set_paper_links
from tests.conftest import make_issue, make_paper, make_publisher, make_record, png_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    return make_issue(slug="cached", picks=2, status="published", intro="First words.")


def version():
    return PublicationVersion.objects.get().token


def correct(issue, **fields):
    """An editor's correction after publication, through the editing function."""
    issue.refresh_from_db()
    return save_issue(issue, by=make_publisher(), data=fields, lock_version=issue.lock_version)


# Hits, 304s and what they cost ----------------------------------------------------------


def test_second_visit_is_served_from_the_cache(client, issue, django_assert_num_queries):
    first = client.get(issue.get_absolute_url())
    # 1 the publication version; the page itself comes from the cache
    with django_assert_num_queries(1):
        second = client.get(issue.get_absolute_url())
    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]


@pytest.mark.parametrize(
    "url", ["/", "/issues/cached/", "/issues/", "/feeds/atom.xml", "/feeds/feed.json", "/sitemap.xml"]
)
def test_conditional_get_answers_304(client, issue, url, django_assert_num_queries):
    response = client.get(url)
    etag = response["ETag"]
    assert etag.startswith('"') and "must-revalidate" in response["Cache-Control"]
    # 1 the publication version
    with django_assert_num_queries(1):
        not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_if_modified_since_answers_304_on_the_issue_page(client, issue):
    response = client.get(issue.get_absolute_url())
    last_modified = response["Last-Modified"]
    assert (
        client.get(issue.get_absolute_url(), headers={"If-Modified-Since": last_modified}).status_code == 304
    )


def test_query_strings_cannot_bust_the_cache(client, issue, django_assert_num_queries):
    client.get(issue.get_absolute_url())
    with django_assert_num_queries(1):
        assert client.get(issue.get_absolute_url() + "?utm_source=x&r=123").status_code == 200


def test_pages_that_are_never_cached_never_ask_for_the_version(client, issue, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/robots.txt").status_code == 200
        assert client.get("/no-such-page/").status_code == 404


@pytest.mark.parametrize("url", ["/sitemap.xml", "/", "/issues/cached/", "/feeds/atom.xml"])
def test_a_host_django_refuses_is_refused_by_cached_pages_too(client, issue, url):
    assert client.get(url).status_code == 200  # now cached
    assert client.get(url, headers={"Host": "evil.com"}).status_code == 400
    assert client.get(url, headers={"Host": "evil.com", "If-None-Match": "*"}).status_code == 400


# What changes the version, and what never does --------------------------------------


def test_a_correction_is_visible_at_once_and_changes_the_etag(client, issue):
    before = client.get(issue.get_absolute_url())
    home_before = client.get("/")
    assert "First words." in before.content.decode()
    correct(issue, intro="Corrected words.")

    after = client.get(issue.get_absolute_url(), headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert "Corrected words." in after.content.decode()
    assert after["ETag"] != before["ETag"]
    # Every page that showed the issue is invalidated with it.
    assert "Corrected words." in client.get("/").content.decode()
    assert client.get("/", headers={"If-None-Match": home_before["ETag"]}).status_code == 200
    assert "Corrected words." in client.get("/feeds/atom.xml").content.decode()


def test_unpublishing_removes_the_issue_from_cached_pages(client, issue):
    older = make_issue(slug="older", picks=1, status="published")
    Issue.objects.filter(pk=older.pk).update(published_at=issue.published_at.replace(year=2000))
    for url in ("/", issue.get_absolute_url(), "/issues/", "/feeds/atom.xml", "/sitemap.xml"):
        assert client.get(url).status_code == 200
    unpublish_issue(issue, by=make_publisher())

    assert client.get(issue.get_absolute_url()).status_code == 404
    for url in ("/", "/issues/", "/feeds/atom.xml", "/sitemap.xml", older.get_absolute_url()):
        assert "/issues/cached/" not in client.get(url).content.decode(), url


def test_publishing_shows_the_new_issue_on_cached_pages(client, issue):
    assert client.get("/").status_code == 200
    draft = make_issue(slug="brand-new", picks=1)
    publish_issue(draft, by=make_publisher())
    assert "<h1>Brand New</h1>" in client.get("/").content.decode()
    assert (
        f'rel="next" href="{draft.get_absolute_url()}"'
        in client.get(issue.get_absolute_url()).content.decode()
    )


def _figure(issue):
    return add_figure(issue.picks.first(), by=make_publisher(), image=png_file(), alt_text="A chart")


PUBLISHED_CHANGES = {
    "issue fields": lambda issue: correct(issue, subtitle="A corrected subtitle"),
    "pick commentary": lambda issue: update_pick(
        pick := issue.picks.first(),
        by=make_publisher(),
        data={"why": "Better."},
        lock_version=pick.lock_version,
    ),
    "a new pick": lambda issue: add_pick(issue, make_paper(), by=make_publisher(), why="W", key_insights="K"),
    "pick order": lambda issue: reorder_picks(
        issue, list(issue.picks.order_by("-position").values_list("pk", flat=True)), by=make_publisher()
    ),
    "a removed pick": lambda issue: remove_pick(issue.picks.last(), by=make_publisher()),
    "a new figure": _figure,
    "a figure's caption": lambda issue: update_figure(
        _figure(issue), by=make_publisher(), data={"caption": "Now captioned"}
    ),
    "a removed figure": lambda issue: remove_figure(_figure(issue), by=make_publisher()),
    "unpublishing": lambda issue: unpublish_issue(issue, by=make_publisher()),
    "a harvested new version of a picked paper": lambda issue: import_entries(
        [make_record(issue.picks.first().paper.arxiv_id, version=2, title="Renamed")]
    ),
    "an editor's code link on a picked paper": lambda issue: set_paper_links(
        issue.picks.first().paper, by=make_publisher(), code_url="https://github.com/a/b", project_url=""
    ),
}


@pytest.mark.parametrize("change", list(PUBLISHED_CHANGES), ids=list(PUBLISHED_CHANGES))
def test_every_change_readers_can_see_replaces_the_version(issue, change):
    before = version()
    PUBLISHED_CHANGES[change](issue)
    assert version() != before


def test_an_author_renamed_in_the_admin_shows_on_cached_pages(client, admin_client, issue):
    author = issue.picks.first().paper.authors.get(name="Shared Author")
    assert "Shared Author" in client.get(issue.get_absolute_url()).content.decode()
    response = admin_client.post(
        f"/admin/papers/author/{author.pk}/change/", {"name": "Shared Author-Renamed"}
    )
    assert response.status_code == 302
    assert "Shared Author-Renamed" in client.get(issue.get_absolute_url()).content.decode()


def test_publishing_and_scheduled_publication_replace_the_version():
    draft = make_issue(slug="to-publish", picks=1)
    before = version()
    publish_issue(draft, by=make_publisher())
    assert version() != before

    scheduled = make_issue(slug="to-schedule", picks=1, status="scheduled")
    before = version()
    publish_due_issues(now=timezone.now() + timedelta(days=2))
    scheduled.refresh_from_db()
    assert scheduled.is_published and version() != before


def test_drafts_reviews_and_schedules_never_touch_the_version(client, issue, editor):
    client.get("/")  # cached
    before = version()
    draft = make_issue(slug="a-draft", picks=1)
    draft = save_issue(
        draft, by=make_publisher(), data={"intro": "Draft words."}, lock_version=draft.lock_version
    )
    pick = add_pick(draft, make_paper(), by=make_publisher(), why="W", key_insights="K")
    update_pick(pick, by=make_publisher(), data={"why": "W2"}, lock_version=pick.lock_version)
    reorder_picks(
        draft, list(draft.picks.order_by("-position").values_list("pk", flat=True)), by=make_publisher()
    )
    add_figure(pick, by=make_publisher(), image=png_file(), alt_text="A chart")
    remove_pick(pick, by=make_publisher())
    submit_for_review(draft, by=make_publisher())
    schedule_issue(draft, by=make_publisher(), publish_at=timezone.now() + timedelta(days=3))
    # A correction of a scheduled issue, not yet out, and taking it back to draft.
    draft.refresh_from_db()
    save_issue(draft, by=make_publisher(), data={"title": "Retitled"}, lock_version=draft.lock_version)
    unpublish_issue(draft, by=make_publisher())
    # A harvest of a paper nobody published.
    import_entries([make_record()])
    assert version() == before


def test_previews_never_touch_the_version_or_the_cache(client, issue, editor, django_assert_num_queries):
    draft = make_issue(slug="a-draft", picks=1)
    client.get("/")
    before = version()
    client.force_login(editor)
    # The admin's live preview saves and renders inside a rolled-back transaction, of a draft
    # and of a correction to the published issue alike; signed links and staff at the address.
    for pk in (draft.pk, issue.pk):
        response = client.post(
            f"/admin/issues/issue/{pk}/preview/", {"title": "Unsaved", "intro": "Unsaved."}
        )
        assert response.status_code == 200 and "Unsaved" in response.content.decode()
    pick = issue.picks.first()
    client.post(f"/admin/issues/issue/pick/{pick.pk}/preview/", {"why": "Unsaved why."})
    assert client.get(f"/preview/{make_preview_token(draft, by=editor)}/").status_code == 200
    assert "Preview" in client.get(draft.get_absolute_url()).content.decode()
    client.logout()
    assert version() == before
    # Readers still get the page cached before the previews, in one query.
    with django_assert_num_queries(1):
        assert "Unsaved" not in client.get("/").content.decode()


def test_a_change_that_rolls_back_leaves_the_version(issue):
    before = version()
    with pytest.raises(RuntimeError), transaction.atomic():
        correct(issue, intro="Never saved.")
        raise RuntimeError("the editor's save failed after the correction")
    assert version() == before


def test_a_missing_version_row_is_created_by_the_first_reader(client, issue):
    # A database flushed by a test (or emptied by hand) has no row.
    PublicationVersion.objects.all().delete()
    assert client.get(issue.get_absolute_url()).status_code == 200
    assert PublicationVersion.objects.count() == 1


def test_migrate_retires_every_cached_page():
    # A new release runs migrate; what it renders may differ from what the last one cached.
    before = version()
    page_cache.retire_pages_after_migrate(sender=None, apps=apps, using="default")
    assert version() != before


def test_a_process_keeps_copies_of_the_current_version_only_within_its_byte_budget():
    copies = page_cache._LocalCopies(max_bytes=100)
    for n in range(5):
        copies.put(f"/page-{n}/", "v1", {"content": b"x" * 30, "headers": []})
    assert copies.bytes == 90
    assert copies.get("/page-0/", "v1") is None and copies.get("/page-1/", "v1") is None
    assert copies.get("/page-4/", "v1")["content"] == b"x" * 30
    # A copy of another version is never served.
    assert copies.get("/page-4/", "v2") is None


# Staff and failures ---------------------------------------------------------------------


def test_pages_still_render_when_the_cache_is_down(client, issue, settings):
    # Nothing listens on port 1: every cache call fails, and the cache is then skipped.
    settings.CACHES = {
        "default": {
            "BACKEND": "curation.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    ResilientRedisCache.reset()
    try:
        response = client.get(issue.get_absolute_url())
        assert response.status_code == 200 and "First words." in response.content.decode()
        assert (
            client.get(issue.get_absolute_url(), headers={"If-None-Match": response["ETag"]}).status_code
            == 304
        )
    finally:
        ResilientRedisCache.reset()


def test_staff_pages_are_never_cached_for_readers(client, editor, issue):
    client.force_login(editor, backend="django.contrib.auth.backends.ModelBackend")
    client.get(issue.get_absolute_url())
    client.logout()
    cache.clear()
    # The reader's page is rendered for the reader, not served from a staff render.
    assert "Preview" not in client.get(issue.get_absolute_url()).content.decode()
