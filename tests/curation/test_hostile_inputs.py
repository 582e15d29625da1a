"""Hostile input across the public pages, the admin and the API: clean 4xx or 200, never 500.

Every URL the site routes is covered (the list below is checked against the
URL configuration, so a new page without hostile coverage fails here), with
XSS, SQL meta-characters, path traversal, a NUL byte, huge and malformed
bodies and invalid UTF-8. What is stored comes back escaped.
"""

import json

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

from tests.conftest import make_issue, make_paper

XSS = "<script>alert(1)</script>"
HOSTILE = [
    XSS,
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "' OR '1'='1' --",
    "'; DROP TABLE papers_paper; --",
    "%' AND 1=1 AND '%'='",
    "\\",
    "../../../../etc/passwd",
    "a\x00b",
    "{{ 7*7 }}${7*7}",
    "\u202etxt.exe",
    "😀" * 50,
    "x" * 20000,
    "-1",
    "99999999999999999999999",
]
PARAMS = [
    "q",
    "page",
    "cursor",
    "category",
    "ordering",
    "status",
    "year",
    "limit",
    "offset",
    "format",
    "author",
]
SERVER_ERROR = 500


def routed_patterns():
    """Every URL pattern outside the admin (which is Django's own), as strings."""
    out = []

    def walk(resolver, prefix):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern) == "admin/":
                    continue
                walk(p, prefix + str(p.pattern))
            else:
                out.append(prefix + str(p.pattern))

    walk(get_resolver(), "")
    return out


@pytest.fixture
def site(db):
    """A published issue with hostile text in every field an editor writes, and a draft."""
    issue = make_issue(
        "hostile-issue",
        picks=2,
        status="published",
        title=f"Title {XSS}",
        subtitle=f"Sub {XSS}",
        intro=f"Intro {XSS} [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        outro=f"Outro {XSS}",
        byline=f"By {XSS}",
    )
    pick = issue.picks.first()
    pick.why = f"Why {XSS}"
    pick.key_insights = f"- {XSS}"
    pick.save()
    from issues.markdown import render_issue

    render_issue(issue)
    make_issue("secret-draft", picks=1, title="Secret draft")
    paper = make_paper("2103.99999", title=f"Paper {XSS}", abstract=f"Abstract {XSS}")
    return {"issue": issue, "paper": paper, "author": paper.authors.first()}


def urls_for(site):
    issue, paper, author = site["issue"], site["paper"], site["author"]
    return {
        "": "/",
        "issues/": "/issues/",
        "issues/<slug:slug>/": issue.get_absolute_url(),
        r"^papers/(?P<arxiv_id>[\w.\-]+(?:/\d{7})?)/$": paper.get_absolute_url(),
        "authors/<slug:slug>/": author.get_absolute_url(),
        "search/": "/search/",
        "about/": "/about/",
        "feeds/atom.xml": "/feeds/atom.xml",
        "feeds/rss.xml": "/feeds/rss.xml",
        "feeds/feed.json": "/feeds/feed.json",
        "sitemap.xml": "/sitemap.xml",
        "robots.txt": "/robots.txt",
        "favicon.ico": "/favicon.ico",
        "healthz": "/healthz",
        "readyz": "/readyz",
        "api/v1/issues/": "/api/v1/issues/",
        "api/v1/issues/<slug:slug>/": f"/api/v1/issues/{issue.slug}/",
        "api/v1/picks/": "/api/v1/picks/",
        "api/v1/papers/": "/api/v1/papers/",
        r"api/v1/^papers/(?P<arxiv_id>.+)/$": f"/api/v1/papers/{paper.arxiv_id}/",
        "api/v1/authors/": "/api/v1/authors/",
        "api/v1/authors/<slug:slug>/": f"/api/v1/authors/{author.slug}/",
        "api/v1/schema/": "/api/v1/schema/",
        # Staff-only endpoints: anonymous hostile requests must still get a clean 4xx.
        "api/v1/issues/<slug:slug>/picks/": f"/api/v1/issues/{issue.slug}/picks/",
        "api/v1/issues/<slug:slug>/candidates/": f"/api/v1/issues/{issue.slug}/candidates/",
        # Staff pages: an anonymous reader is sent to the login page.
        "triage/issues/<int:issue_id>/": f"/triage/issues/{issue.pk}/",
        "triage/issues/<int:issue_id>/action/": f"/triage/issues/{issue.pk}/action/",
        "triage/issues/<int:issue_id>/shortlist/": f"/triage/issues/{issue.pk}/shortlist/",
    }


# Patterns that take ids or tokens in the path; covered by the path tests below.
TRIAGE_VERBS = ("shortlist", "reject", "reset", "vote", "undo")
PATH_ONLY = {
    "preview/<str:token>/",
    "api/v1/issues/<slug:slug>/picks/reorder/",
    "api/v1/issues/<slug:slug>/picks/<int:pk>/",
    *(rf"api/v1/^issues/(?P<slug>[-\w]+)/candidates/(?P<arxiv_id>.+)/{verb}/$" for verb in TRIAGE_VERBS),
    *(f"api/v1/issues/<slug:slug>/{verb}/" for verb in ("submit", "schedule", "publish", "unpublish")),
    "api/v1/docs/",
    "api/v1/redoc/",
    "^media/(?P<path>.*)$",
}


def assert_clean(response, url):
    assert response.status_code != SERVER_ERROR, f"{url} answered 500"
    assert response.status_code < 500 or response.status_code == 503, f"{url}: {response.status_code}"
    content_type = response.get("Content-Type", "")
    if response.status_code == 200 and ("html" in content_type or "xml" in content_type):
        body = response.content.decode("utf-8", "replace")
        assert XSS not in body, f"{url} echoed a script unescaped"
        assert "onerror=alert(1)>" not in body.replace("&gt;", ""), f"{url} echoed an attribute"


def test_every_routed_page_is_covered(site):
    covered = set(urls_for(site)) | PATH_ONLY
    # The API's catch-all answers JSON 404s for unknown paths (the path tests cover it).
    missing = [p for p in routed_patterns() if p not in covered and not p.startswith("api/^")]
    assert not missing, f"add these URLs to the hostile-input list: {missing}"


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_query_parameters_on_every_page(client, site, payload):
    for url in urls_for(site).values():
        response = client.get(url, {name: payload for name in PARAMS})
        assert_clean(response, url)


def test_a_nul_byte_in_a_query_parameter_is_refused_cleanly(client, site):
    for url in ("/search/", "/api/v1/papers/", "/api/v1/issues/", "/"):
        response = client.get(f"{url}?q=abc%00def")
        assert response.status_code == 400, url
        assert b"Traceback" not in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/papers/..%2F..%2F..%2Fetc%2Fpasswd/",
        "/papers/../../etc/passwd/",
        "/issues/..%2Fsecret-draft/",
        "/authors/%2e%2e/",
        "/media/../../../etc/passwd",
        "/media/..%2F..%2Fcuration%2Fsettings.py",
        "/static/../curation/settings.py",
        "/api/v1/papers/..%2F..%2F..%2Fetc%2Fpasswd/",
        "/api/v1/issues/secret-draft/",
        "/api/v1/issues/hostile-issue/picks/1%00/",
        "/api/v1/issues/hostile-issue/candidates/%00/shortlist/",
        "/preview/..%2F..%2Fetc%2Fpasswd/",
        "/issues/%FF%FE/",
        "/papers/%C0%AE%C0%AE/",
        "/%00",
    ],
)
def test_path_traversal_and_invalid_utf8_in_paths(client, site, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500, f"{path}: {response.status_code}"
    assert b"root:" not in response.content
    assert b"SECRET_KEY" not in response.content
    assert b"Secret draft" not in response.content


def test_invalid_utf8_in_the_query_string(client, site):
    for url in urls_for(site).values():
        response = client.get(url, QUERY_STRING="q=%FF%FE%FD&page=%C0%AE")
        assert_clean(response, url)


# Bodies ------------------------------------------------------------------------


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def test_malformed_bodies_to_the_api_are_400(curator_client, site):
    url = f"/api/v1/issues/{site['issue'].slug}/picks/"
    for body, content_type in [
        (b"{not json", "application/json"),
        (b'{"arxiv_id": "2103.99999", "why": "\xff\xfe"}', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"\x00\x01\x02", "application/json"),
        (b"arxiv_id=2103.99999", "application/x-www-form-urlencoded"),
        (b"<xml/>", "application/xml"),
    ]:
        response = curator_client.generic("POST", url, body, content_type=content_type)
        assert 400 <= response.status_code < 500, (body, response.status_code)
        assert response["Content-Type"].startswith("application/json")


def test_hostile_field_values_in_the_api_are_refused_or_stored_inert(curator_client, site, client):
    issue = site["issue"]
    url = f"/api/v1/issues/{issue.slug}/picks/"
    for payload in HOSTILE:
        body = {"arxiv_id": payload, "why": payload, "key_insights": payload, "code_url": payload}
        response = curator_client.post(url, json.dumps(body), content_type="application/json")
        assert 400 <= response.status_code < 500, (payload[:30], response.status_code)
    too_long = {"arxiv_id": "2103.99999", "why": "w" * 20001}
    response = curator_client.post(url, json.dumps(too_long), content_type="application/json")
    assert response.status_code in (400, 409), response.content
    nul = {"arxiv_id": "2103.99999", "why": "a\x00b"}
    response = curator_client.post(url, json.dumps(nul), content_type="application/json")
    assert 400 <= response.status_code < 500


def test_huge_bodies_are_refused_before_they_are_read(client, curator_client, site, settings):
    huge = b"x" * (settings.MAX_REQUEST_BODY_SIZE + 1)
    for url in ("/admin/login/", f"/api/v1/issues/{site['issue'].slug}/picks/", "/search/"):
        response = curator_client.generic("POST", url, huge, content_type="application/json")
        assert response.status_code == 413, url
    response = client.generic(
        "POST", "/api/v1/issues/", b"{}", content_type="application/json", CONTENT_LENGTH="not-a-number"
    )
    assert response.status_code == 400


def test_stored_hostile_text_comes_back_escaped_everywhere(client, site):
    issue = site["issue"]
    for url in (
        "/",
        "/issues/",
        issue.get_absolute_url(),
        "/feeds/atom.xml",
        "/feeds/rss.xml",
        "/search/?q=paper",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert XSS not in body, url
        # The text may mention it; no link may point at it.
        assert 'href="javascript:' not in body.lower(), url
    data = client.get(f"/api/v1/issues/{issue.slug}/").json()
    # JSON carries the text as data; the rendered HTML fields carry it escaped.
    assert XSS not in json.dumps(data.get("intro_html", "")), data.get("intro_html")


# Admin forms -----------------------------------------------------------------------


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_admin_login_with_hostile_credentials(client, db, payload):
    response = client.post("/admin/login/", {"username": payload, "password": payload})
    # A NUL is refused before the form sees it (curation/limits.py); the rest are wrong logins.
    assert response.status_code == (400 if "\x00" in payload else 200)
    assert XSS not in response.content.decode()


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def admin_changelists():
    from django.contrib import admin

    return [f"/admin/{model._meta.app_label}/{model._meta.model_name}/" for model in admin.site._registry]


@pytest.mark.parametrize("payload", [XSS, "' OR 1=1 --", "a\x00b", "\\", "x" * 5000])
def test_admin_changelists_search_and_filters(editor_client, site, payload):
    for url in admin_changelists():
        response = editor_client.get(
            url, {"q": payload, "o": payload, "p": payload, "status__exact": payload}
        )
        assert response.status_code in (200, 302, 400, 403), (url, response.status_code)
        assert XSS not in response.content.decode("utf-8", "replace"), url


@pytest.mark.parametrize("as_superuser", [False, True], ids=["editor", "superuser"])
def test_admin_add_forms_refuse_or_escape_hostile_text(editor_client, editor, site, as_superuser):
    from issues.models import Issue

    if as_superuser:
        editor.is_superuser = True
        editor.save()

    for url in [u + "add/" for u in admin_changelists()]:
        page = editor_client.get(url)
        if page.status_code != 200:
            continue
        data = {}
        form = page.context.get("adminform") if page.context else None
        if form is None:
            continue
        for name in form.form.fields:
            data[name] = XSS
        response = editor_client.post(url, data)
        assert response.status_code in (200, 302, 400, 403), (url, response.status_code)
        assert XSS not in response.content.decode("utf-8", "replace"), url
    # Whatever was saved renders escaped on the public side.
    for issue in Issue.objects.published():
        assert XSS not in editor_client.get(issue.get_absolute_url()).content.decode()


# Characters no page can store: NUL and lone surrogates, in forms and query strings -----


@pytest.fixture
def queue(db, curator):
    from triage.decisions import shortlist

    issue = make_issue("june-2025")
    paper = make_paper()
    shortlist(paper, issue, by=curator)
    return {"issue": issue, "paper": paper, "url": f"/triage/issues/{issue.pk}/action/"}


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "note", "text": "a\x00b"},
        {"action": "shortlist", "note": "fine\x00"},
        {"action": "reject", "note": "\x00"},
    ],
    ids=["triage note", "shortlist note", "reject note"],
)
def test_a_nul_in_a_triage_form_is_a_400_and_nothing_is_stored(curator_client, queue, fields):
    from triage.models import TriageEvent, TriageNote

    events = TriageEvent.objects.count()
    response = curator_client.post(queue["url"], {"paper": queue["paper"].pk, **fields})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "NUL character" in response.content.decode()
    assert TriageNote.objects.count() == 0
    assert TriageEvent.objects.count() == events


def test_a_lone_surrogate_in_a_form_is_a_400(curator_client, queue):
    """The charset a client names decodes multipart fields: unicode_escape makes \\ud800 half a pair."""
    from triage.models import TriageNote

    fields = {"action": "note", "paper": str(queue["paper"].pk), "text": "\\ud800"}
    body = "".join(
        f'--B\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    # generic(), not post(): post() would re-encode the body in the named charset.
    response = curator_client.generic(
        "POST",
        queue["url"],
        (body + "--B--\r\n").encode(),
        content_type="multipart/form-data; boundary=B; charset=unicode_escape",
    )
    assert response.status_code == 400
    assert "lone surrogate" in response.content.decode()
    assert TriageNote.objects.count() == 0


def test_a_lone_surrogate_in_a_query_string_is_a_400_in_the_pages_shape(client, site):
    for url in ("/search/", "/issues/", "/api/v1/papers/", "/api/v1/issues/"):
        response = client.get(
            url, QUERY_STRING="q=%5Cud83d", CONTENT_TYPE="text/plain; charset=unicode_escape"
        )
        assert response.status_code == 400, url
        if url.startswith("/api/"):
            assert response.json()["error"]["code"] == "invalid", url
            assert "lone surrogate" in response.json()["error"]["message"]
        else:
            assert "lone surrogate" in response.content.decode(), url


def test_a_nul_in_a_form_post_to_the_login_page_is_a_400(client, db):
    response = client.post("/admin/login/", {"username": "edna\x00", "password": "x"})
    assert response.status_code == 400


# Chunked bodies ---------------------------------------------------------------------


def test_a_chunked_body_is_answered_411_not_read_as_empty(curator_client, queue):
    from triage.models import TriageNote

    # No Content-Length: the WSGI server hands Django an empty body for a chunked one.
    response = curator_client.generic(
        "POST",
        queue["url"],
        b"",
        content_type="application/x-www-form-urlencoded",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert "Length Required" in response.content.decode()
    assert TriageNote.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_chunked_requests_to_a_real_server_get_411(live_server):
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(live_server.url)
    for path, content_type, body in [
        ("/api/v1/papers/", "application/json", b'{"ids": ["2103.00001"]}'),
        ("/admin/login/", "application/x-www-form-urlencoded", b"username=edna&password=x"),
    ]:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {address.hostname}\r\nContent-Type: {content_type}\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        ).encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, payload = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 411"), (path, answer[:300])
        if path.startswith("/api/"):
            error = json.loads(payload)["error"]
            assert error["code"] == "length_required"
            assert error["message"].startswith("Length Required")
