"""A PostgreSQL outage answers 503 with Retry-After: the friendly page on the site, the error shape on the API.

Two ways to lose the database: the connection of the test's own database made
to fail (every page and API operation, in process), and a real server process
whose DATABASE_URL points at a closed port (psycopg's own connection error).
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client

from tests.conftest import make_issue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client():
    # Answer as the server would instead of raising the handled error in the test.
    return Client(raise_request_exception=False)


@pytest.fixture
def database_down(monkeypatch):
    def refuse():
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    def down():
        monkeypatch.setattr(connection, "ensure_connection", refuse)

    return down


@pytest.mark.django_db
def test_the_site_answers_503_with_retry_after_and_a_friendly_page(client, database_down):
    make_issue("march-2021", picks=1, status="published")
    database_down()
    for url in ("/", "/search/?q=learning", "/issues/", "/papers/2103.99999/", "/feeds/atom.xml"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert 1 <= int(response["Retry-After"]) <= 120, url
        page = response.content.decode()
        assert "back in a moment" in page, url
        assert "Traceback" not in page and "OperationalError" not in page, url
        assert response["Cache-Control"] == "no-store", url


@pytest.mark.django_db
def test_the_api_answers_503_in_its_error_shape(client, database_down):
    make_issue("march-2021", picks=1, status="published")
    database_down()
    for url in ("/api/v1/papers/", "/api/v1/authors/", "/api/v1/picks/?q=x"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response["Content-Type"].startswith("application/json"), url
        error = response.json()["error"]
        assert error["code"] == "unavailable", url
        assert "database" in error["message"], url
        assert error["details"] == {"retry_after": int(response["Retry-After"])}, url


@pytest.mark.django_db
def test_a_signed_in_editor_gets_the_503_too(client, editor, database_down):
    client.force_login(editor)
    database_down()
    response = client.get("/admin/issues/issue/")
    assert response.status_code == 503
    response = client.post("/api/v1/issues/march-2021/publish/")
    assert response.status_code == 503


def test_other_server_errors_stay_500(rf):
    from curation.health import server_error

    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        response = server_error(rf.get("/api/v1/issues/"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVE = """
import django, json
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
answers = {}
for url in ("/issues/", "/api/v1/issues/", "/"):
    response = client.get(url)
    answers[url] = [response.status_code, response.get("Retry-After"), response["Content-Type"]]
print(json.dumps(answers))
"""


def test_a_server_whose_database_is_unreachable_answers_503(tmp_path):
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="curation.settings",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed_port()}/curation",
        SECRET_KEY="outage-test-only",
        DEBUG="0",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        VAR_DIR=str(tmp_path),
        LOG_LEVEL="CRITICAL",
    )
    result = subprocess.run(
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for url, (status, retry_after, _content_type) in answers.items():
        assert status == 503, (url, answers)
        assert int(retry_after) > 0, url
    assert answers["/api/v1/issues/"][2].startswith("application/json")
    assert answers["/issues/"][2].startswith("text/html")
