"""Security headers on the public pages, and no inline code the CSP would have to allow."""

import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/issues/",
    "/issues/april-2021/",
    "/papers/2103.10360/",
    "/authors/jie-tang/",
    "/search/?q=transformer",
    "/about/",
    "/issues/does-not-exist/",
]


@pytest.fixture(autouse=True)
def demo():
    call_command("load_demo")


def csp_directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("url", PAGES)
def test_public_pages_send_a_strict_csp_and_the_other_headers(client, url):
    for response in (client.get(url), client.get(url)):  # rendered, then from the cache
        directives = csp_directives(response)
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["object-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"]
        assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("url", PAGES)
def test_public_pages_have_no_inline_script_or_style(client, url):
    html = client.get(url).content.decode()
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # onclick=, onload=…
    for tag in re.findall(r"<script\b[^>]*>", html):
        # Only data blocks (JSON-LD), which the CSP does not execute.
        assert 'type="application/ld+json"' in tag, tag
