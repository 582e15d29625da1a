"""Hostile input the API must refuse with the common 400, never a 500.

Tampered cursors (an opaque token a client can still edit) and JSON bodies a
stock parser chokes on: nesting deep enough to exhaust the recursion limit,
and lone UTF-16 surrogates, which JSON's ``\\ud800`` escapes allow but UTF-8
(and so PostgreSQL) cannot store.
"""

import base64

import pytest

from tests.conftest import make_paper

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def _cursor(raw):
    raw = raw if isinstance(raw, bytes) else raw.encode()
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "cD0A",  # "p=\x00": a NUL position, which PostgreSQL text cannot hold
        "garbage",
        _cursor("o=-5"),
        _cursor("r=x"),
        _cursor("r=1&p=\ud800".encode("utf-8", "surrogatepass")),
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/authors/", "/api/v1/picks/", "/api/v1/issues/", "/api/v1/papers/"])
def test_a_tampered_cursor_is_a_400(anon, published, url, cursor):
    error = assert_error(anon.get(url, {"cursor": cursor}), 400, "invalid")
    assert "cursor" in error["details"]["fields"]


@pytest.mark.parametrize("position", ["not-a-date", "2021-13-45 00:00:00", "\x00"])
@pytest.mark.parametrize("url", ["/api/v1/picks/", "/api/v1/issues/", "/api/v1/papers/"])
def test_a_cursor_whose_position_is_not_a_date_is_a_400(anon, published, url, position):
    assert_error(anon.get(url, {"cursor": _cursor(f"p={position}")}), 400, "invalid")


def test_a_candidates_cursor_whose_position_is_not_a_score_is_a_400(as_curator, draft):
    for position in ("high", "nan", "1e999", "\x00"):
        response = as_curator.get(
            "/api/v1/issues/draft-issue/candidates/", {"cursor": _cursor(f"p={position}")}
        )
        assert_error(response, 400, "invalid")


def test_a_real_cursor_still_pages(anon, published):
    first = anon.get("/api/v1/authors/?page_size=2").json()
    second = anon.get(first["next"]).json()
    assert second["results"] and second["results"][0] not in first["results"]


def _deep(depth):
    return "[" * depth + "]" * depth


DEEP = _deep(100_000)


def _post(client, url, body, method="POST"):
    return client.generic(method, url, body, content_type="application/json")


def test_deeply_nested_json_is_a_400_everywhere(as_curator, draft):
    pick = draft.picks.get(position=1)
    paper = make_paper()
    bodies = [
        ("PATCH", f"/api/v1/issues/draft-issue/picks/{pick.pk}/", '{"lock_version": 0, "why": %s}'),
        ("POST", f"/api/v1/issues/draft-issue/candidates/{paper.arxiv_id}/vote/", '{"value": %s}'),
        ("POST", "/api/v1/issues/draft-issue/picks/reorder/", '{"pick_ids": %s}'),
        ("POST", "/api/v1/papers/", '{"ids": %s}'),
    ]
    for method, url, template in bodies:
        error = assert_error(_post(as_curator, url, template % DEEP, method), 400, "parse_error")
        assert "nested" in error["message"], url
    # Past 64 levels, even when the recursion limit would allow it.
    assert_error(_post(as_curator, "/api/v1/papers/", f'{{"ids": {_deep(64)}}}'), 400, "parse_error")
    # Shallow nesting parses, and is refused for what it is: not a list of ids.
    assert_error(_post(as_curator, "/api/v1/papers/", f'{{"ids": {_deep(3)}}}'), 400, "invalid")


@pytest.mark.parametrize(
    "body",
    [
        '{"why": "\\ud800", "lock_version": 0}',
        '{"why": "ok \\udfff end", "lock_version": 0}',
        '{"\\ud800": 1, "lock_version": 0}',
        '{"why": ["\\ud83d"], "lock_version": 0}',
    ],
)
def test_lone_surrogates_are_a_400(as_curator, draft, body):
    pick = draft.picks.get(position=1)
    response = _post(as_curator, f"/api/v1/issues/draft-issue/picks/{pick.pk}/", body, "PATCH")
    error = assert_error(response, 400, "parse_error")
    assert "surrogate" in error["message"]


def test_a_proper_surrogate_pair_is_an_emoji(as_curator, draft):
    pick = draft.picks.get(position=1)
    response = _post(
        as_curator,
        f"/api/v1/issues/draft-issue/picks/{pick.pk}/",
        '{"why": "Great \\ud83d\\ude00", "lock_version": 0}',
        "PATCH",
    )
    assert response.status_code == 200, response.content
    assert response.json()["why"] == "Great 😀"


def test_invalid_utf8_is_a_400(as_curator, draft):
    response = _post(as_curator, "/api/v1/papers/", b'{"ids": ["\xff\xfe"]}')
    assert_error(response, 400, "parse_error")
