"""Shared fixtures: personas, factories and the service checks.

Tests marked ``postgres`` need PostgreSQL and ``broker`` a real Celery broker
with Redis; on the embedded default they are skipped with the reason shown.
With CURATION_NO_SKIPS=1 (CI against the real services) any skip fails the run.
"""

import io
import os
import shutil
from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from curation.roles import ensure_roles
from issues import page_cache
from issues import search as public_search
from issues.markdown import render_issue
from issues.models import Issue, Pick
from issues.publishing import publish_issue, schedule_issue, submit_for_review

# The fake arXiv server and the settings that point harvests at it, for every test package.
from papers.fake_arxiv.testing import fake_arxiv, harvest_settings  # noqa: F401
from papers.ingest import PaperRecord, import_entries
from papers.models import Paper

NO_SKIPS = os.environ.get("CURATION_NO_SKIPS") == "1"

# Tests speak plain HTTP (the test client, live_server): with DEBUG off the
# production defaults would redirect every request to https. Set before any
# handler loads SecurityMiddleware; tests of the redirect turn it back on.
settings.SECURE_SSL_REDIRECT = False
settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
_skipped = []


def _service_skip_reason(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://… (skipped on the SQLite default)"
    if item.get_closest_marker("broker") and not (settings.CELERY_BROKER_URL and settings.REDIS_URL):
        return "needs a real broker: set CELERY_BROKER_URL and REDIS_URL (tasks run in-process here)"
    if item.get_closest_marker("browser") and not shutil.which(os.environ.get("CHROMIUM", "chromium")):
        return "needs Chromium: apt-get install chromium (as .ci/run does)"
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = _service_skip_reason(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if NO_SKIPS and _skipped:
        print(f"\nCURATION_NO_SKIPS=1 but {len(_skipped)} test(s) were skipped:")
        for nodeid in _skipped:
            print(f"  {nodeid}")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _media_and_static(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The hashed-manifest storage needs collectstatic; tests serve files as they are.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    # Every test's database starts from the same publication version: no copy may outlive its test.
    page_cache.forget_local_copies()
    # The search rate counts this process remembers belong to the cache just cleared.
    public_search.forget_local_counts()
    yield


# Personas -------------------------------------------------------------------


def make_user(django_user_model, username, group=None, **extra):
    user = django_user_model.objects.create_user(
        username, f"{username}@example.org", "pw-1234567890", **extra
    )
    if group:
        # A transactional test before this one may have flushed the migration's groups.
        ensure_roles()
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(django_user_model):
    return make_user(django_user_model, "edna", "Editors", is_staff=True)


@pytest.fixture
def curator(django_user_model):
    return make_user(django_user_model, "carl", "Curators", is_staff=True)


@pytest.fixture
def other_curator(django_user_model):
    return make_user(django_user_model, "cora", "Curators", is_staff=True)


@pytest.fixture
def reader(django_user_model):
    return make_user(django_user_model, "rita")


# Factories ------------------------------------------------------------------

_counter = {"paper": 0}


def make_record(arxiv_id=None, **overrides):
    _counter["paper"] += 1
    n = _counter["paper"]
    when = datetime(2021, 3, 1 + n % 28, 12, 0, tzinfo=UTC)
    values = {
        "arxiv_id": arxiv_id or f"2103.{10000 + n:05d}",
        "version": 1,
        "title": f"A paper about topic {n}",
        "abstract": f"We study topic {n} and find things.",
        "authors": [(f"Author {n} One", ""), (f"Author {n} Two", ""), ("Shared Author", "")],
        "primary_category": "cs.LG",
        "categories": ["cs.LG", "cs.AI"],
        "submitted_at": when,
        "updated_at": when,
    }
    values.update(overrides)
    return PaperRecord(**values)


def make_paper(arxiv_id=None, **overrides):
    record = make_record(arxiv_id, **overrides)
    import_entries([record])
    return Paper.objects.get(arxiv_id=record.arxiv_id)


def make_issue(slug="march-2021", picks=0, status="draft", **overrides):
    values = {
        "title": slug.replace("-", " ").title(),
        "subtitle": "A test issue",
        "slug": slug,
        "period_start": date(2021, 3, 1),
        "period_end": date(2021, 3, 31),
        "byline": "The test team",
        "intro": "An *intro*.",
        "outro": "An outro.",
    }
    values.update(overrides)
    issue = Issue.objects.create(**values)
    for position in range(1, picks + 1):
        Pick.objects.create(
            issue=issue,
            paper=make_paper(),
            position=position,
            why=f"Why number {position}.",
            key_insights=f"Insight number {position}.",
        )
    render_issue(issue)
    # Through the transition functions, as the admin and the scheduler do.
    if status == "published":
        issue = publish_issue(issue, by=make_publisher())
    elif status == "review":
        issue = submit_for_review(issue, by=make_publisher())
    elif status == "scheduled":
        publish_at = overrides.get("publish_at") or timezone.now() + timedelta(days=1)
        issue = schedule_issue(issue, by=make_publisher(), publish_at=publish_at)
    return issue


def png_file(name="figure.png"):
    """A tiny valid PNG upload, for figures."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "white").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def make_publisher():
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(username="factory-editor")
    if created:
        ensure_roles()
        user.groups.add(Group.objects.get(name="Editors"))
    return user


# Browser ----------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch):
    """Debian's headless Chromium driven by Playwright (tests marked ``browser``)."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's
    # async-safety check would refuse the test's own ORM calls otherwise.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Live-server threads must not keep connections that block the test database's teardown.
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
            headless=True,
        )
        yield browser
        # ORM calls the test made while Playwright's loop ran got their own connection,
        # reachable only while the loop runs: close it here, or PostgreSQL refuses to drop
        # the test database at the end of the session.
        connections.close_all()
        browser.close()
    connections.close_all()


def log_in(page, live_server, username, password="pw-1234567890"):
    """Sign in through the admin login form, as a person would."""
    from django.urls import reverse

    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
