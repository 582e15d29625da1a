"""Rendered pages are cached, invalidated by publish/correction/unpublish, and answer 304s."""

import pytest
from django.core.cache import cache

from issues.markdown import render_issue
from issues.models import Issue
from issues.publishing import publish_issue, unpublish_issue
from tests.conftest import make_issue, make_publisher

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    return make_issue(slug="cached", picks=2, status="published", intro="First words.")


def correct(issue, django_capture_on_commit_callbacks, **fields):
    """An editor's correction after publication, committed."""
    with django_capture_on_commit_callbacks(execute=True):
        for name, value in fields.items():
            setattr(issue, name, value)
        issue.save()
        render_issue(issue)
    return issue


def test_second_visit_is_served_from_the_cache(client, issue, django_assert_num_queries):
    first = client.get(issue.get_absolute_url())
    with django_assert_num_queries(0):
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
    with django_assert_num_queries(0):
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


def test_a_correction_is_visible_at_once_and_changes_the_etag(
    client, issue, django_capture_on_commit_callbacks
):
    before = client.get(issue.get_absolute_url())
    home_before = client.get("/")
    assert "First words." in before.content.decode()
    correct(issue, django_capture_on_commit_callbacks, intro="Corrected words.")

    after = client.get(issue.get_absolute_url(), headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert "Corrected words." in after.content.decode()
    assert after["ETag"] != before["ETag"]
    # Every page that showed the issue is invalidated with it.
    assert "Corrected words." in client.get("/").content.decode()
    assert client.get("/", headers={"If-None-Match": home_before["ETag"]}).status_code == 200
    assert "Corrected words." in client.get("/feeds/atom.xml").content.decode()


def test_unpublishing_removes_the_issue_from_cached_pages(client, issue, django_capture_on_commit_callbacks):
    older = make_issue(slug="older", picks=1, status="published")
    Issue.objects.filter(pk=older.pk).update(published_at=issue.published_at.replace(year=2000))
    for url in ("/", issue.get_absolute_url(), "/issues/", "/feeds/atom.xml", "/sitemap.xml"):
        assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        unpublish_issue(issue, by=make_publisher())

    assert client.get(issue.get_absolute_url()).status_code == 404
    for url in ("/", "/issues/", "/feeds/atom.xml", "/sitemap.xml", older.get_absolute_url()):
        assert "/issues/cached/" not in client.get(url).content.decode(), url


def test_publishing_shows_the_new_issue_on_cached_pages(client, issue, django_capture_on_commit_callbacks):
    assert client.get("/").status_code == 200
    draft = make_issue(slug="brand-new", picks=1)
    with django_capture_on_commit_callbacks(execute=True):
        publish_issue(draft, by=make_publisher())
    assert "<h1>Brand New</h1>" in client.get("/").content.decode()
    assert (
        f'rel="next" href="{draft.get_absolute_url()}"'
        in client.get(issue.get_absolute_url()).content.decode()
    )


def test_pages_still_render_when_the_cache_is_down(client, issue, settings):
    # Nothing listens on port 1: every cache call fails.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get(issue.get_absolute_url())
    assert response.status_code == 200 and "First words." in response.content.decode()
    assert (
        client.get(issue.get_absolute_url(), headers={"If-None-Match": response["ETag"]}).status_code == 304
    )


def test_staff_pages_are_never_cached_for_readers(client, editor, issue):
    client.force_login(editor, backend="django.contrib.auth.backends.ModelBackend")
    client.get(issue.get_absolute_url())
    client.logout()
    cache.clear()
    # The reader's page is rendered for the reader, not served from a staff render.
    assert "Preview" not in client.get(issue.get_absolute_url()).content.decode()


def test_query_strings_cannot_bust_the_cache(client, issue, django_assert_num_queries):
    client.get(issue.get_absolute_url())
    with django_assert_num_queries(0):
        assert client.get(issue.get_absolute_url() + "?utm_source=x&r=123").status_code == 200
