"""What `make run` serves: the embedded mode (no broker, no beat) under runserver, as a newcomer gets it.

One SQLite site under a temporary VAR_DIR and one runserver on a free port
(autoreloader included, as the Makefile's run target starts it), shared by
the tests of this module.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from curation.management.commands.runserver import served_site_url

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
import django
django.setup()
from datetime import UTC, date, datetime
from django.core.management import call_command
call_command("migrate", verbosity=0)
from issues.markdown import render_issue
from issues.models import Issue, Pick
from issues.publishing import publish_issue
from papers.ingest import PaperRecord, import_entries
from papers.models import Paper
from tests.conftest import make_publisher
when = datetime(2021, 3, 2, tzinfo=UTC)
import_entries([PaperRecord(arxiv_id=f"2103.0000{n}", version=1, title=f"T{n}", abstract="A",
    authors=[("A B", "")], primary_category="cs.LG", categories=["cs.LG"], submitted_at=when, updated_at=when)
    for n in (1, 2)])
for n, slug in enumerate(["live", "due"], start=1):
    issue = Issue.objects.create(title=slug.title(), slug=slug, period_start=date(2021, 3, 1),
        period_end=date(2021, 3, 31))
    Pick.objects.create(issue=issue, paper=Paper.objects.get(arxiv_id=f"2103.0000{n}"), position=1,
        why="W.", key_insights="K.")
    render_issue(issue)
publish_issue(Issue.objects.get(slug="live"), by=make_publisher(), at=datetime(2021, 4, 1, tzinfo=UTC))
# Scheduled for a time long past, as if the site had been down: it must go out when the site starts.
Issue.objects.filter(slug="due").update(status="scheduled", publish_at=datetime(2020, 1, 1, 9, tzinfo=UTC))
"""


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.25)
    return condition()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    var = tmp_path_factory.mktemp("make-run")
    # The embedded mode: none of the services a test run may point at.
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="curation.settings")
    subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, timeout=300)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return urllib.request.urlopen(url + "/healthz", timeout=2).status == 200
        except OSError:
            return False

    try:
        assert _wait(up, 60), "runserver did not start"
        yield {"url": url, "db": var / "db.sqlite3"}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


def _status(db, slug):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT status FROM issues_issue WHERE slug = ?", [slug]).fetchone()[0]


def test_the_run_target_is_runserver():
    recipe = (ROOT / "Makefile").read_text().split("\nrun:")[1].split("\n\n")[0]
    assert "manage.py runserver" in recipe


def test_make_run_publishes_an_overdue_issue_without_celery(site):
    assert _wait(lambda: _status(site["db"], "due") == "published", 60)
    with closing(sqlite3.connect(site["db"])) as conn:
        [(last_run,)] = conn.execute("SELECT last_run_at FROM issues_schedulerheartbeat").fetchall()
    assert last_run


def test_links_name_the_address_served_not_port_8000(site):
    html = urllib.request.urlopen(site["url"] + "/issues/live/", timeout=10).read().decode()
    assert f'<link rel="canonical" href="{site["url"]}/issues/live/">' in html
    assert ":8000" not in html
    api = urllib.request.urlopen(site["url"] + "/api/v1/issues/live/", timeout=10).read().decode()
    assert f'"{site["url"]}/issues/live/"' in api and ":8000" not in api


@pytest.mark.parametrize(
    ("addr", "ipv6", "url"),
    [
        ("127.0.0.1", False, "http://127.0.0.1:9000"),
        ("0.0.0.0", False, "http://127.0.0.1:9000"),
        ("::1", True, "http://[::1]:9000"),
        ("::", True, "http://127.0.0.1:9000"),
        ("localhost", False, "http://localhost:9000"),
    ],
)
def test_served_site_url(addr, ipv6, url):
    assert served_site_url(addr, 9000, ipv6=ipv6) == url
