"""Commentary Markdown: CommonMark with tables, stored as sanitized HTML."""

from html.parser import HTMLParser

import pytest

from issues.markdown import render_markdown

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=https://evil.example></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x](https://example.org/x.png "a" onerror="alert(1)")',
    '<a href="javascript:alert(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<object data=x></object><embed src=x>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "[a](&#106;avascript:alert(1))",
    "[a](java\tscript:alert(1))",
    "<details open ontoggle=alert(1)>",
    "`<script>` and **<b onmouseover=alert(1)>bold</b>**",
    "[^x]: javascript:alert(1) evil\n\nsee[^x]",
]


class _Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML."""

    def __init__(self, html):
        super().__init__()
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_no_script_survives(vector):
    for tag, attrs in _Elements(render_markdown(vector)).found:
        assert tag not in {"script", "iframe", "object", "embed", "svg", "math", "style", "form", "details"}
        assert not [name for name in attrs if name.startswith("on") or name == "style"]
        for name in ("href", "src"):
            url = (attrs.get(name) or "").strip().lower()
            assert not url or url.startswith(("https://", "http://", "mailto:", "#")), url


def test_commonmark_tables_and_emphasis():
    html = render_markdown(
        "**Bold** and *it*.\n\n| Model | Score |\n|:--|--:|\n| GLM | 1.2 |\n\n- one\n- two\n"
    )
    assert "<strong>Bold</strong>" in html and "<em>it</em>" in html
    assert "<table>" in html and "<td" in html and "GLM" in html
    assert "<li>one</li>" in html


def test_raw_html_is_shown_as_text_not_markup():
    html = render_markdown("Use <b>bold</b> carefully.")
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_outgoing_links_get_rel_noopener():
    html = render_markdown("[GLM](https://github.com/THUDM/GLM)")
    assert '<a href="https://github.com/THUDM/GLM" rel="noopener noreferrer">GLM</a>' in html
