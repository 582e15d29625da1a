"""Every error a client can get has the same shape; conditional GETs and throttling behave."""

import pytest
from django.test import override_settings

from issues.api import views
from tests.conftest import make_paper

from .conftest import assert_error

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400(as_curator, published):
    response = as_curator.generic("POST", "/api/v1/papers/", '{"ids": [', content_type="application/json")
    error = assert_error(response, 400, "parse_error")
    assert "JSON" in error["message"]


def test_wrong_types_and_unknown_fields_are_400s_naming_the_field(as_curator, published):
    error = assert_error(as_curator.post("/api/v1/papers/", {"ids": "2103.1"}, format="json"), 400, "invalid")
    assert error["message"].startswith("ids:")
    assert "ids" in error["details"]["fields"]

    error = assert_error(
        as_curator.post("/api/v1/papers/", {"ids": ["2103.10360"], "idz": 1}, format="json"), 400
    )
    assert error["details"]["fields"] == {"idz": ["Unknown field."]}

    error = assert_error(as_curator.post("/api/v1/papers/", [1, 2], format="json"), 400)
    assert "dictionary" in error["message"]


def test_bad_query_parameters_are_400s(anon, published):
    for query, name in [
        ("year=twenty", "year"),
        ("has_code=maybe", "has_code"),
        ("ordering=-title", "ordering"),
        ("page_size=-1", "page_size"),
        # Sent without a value: the schema says integer / boolean, so "" is not "no filter".
        ("page_size=", "page_size"),
        ("year=", "year"),
        ("has_code=", "has_code"),
        ("year=2021.5", "year"),
        ("has_code=1", "has_code"),
    ]:
        error = assert_error(anon.get(f"/api/v1/picks/?{query}"), 400, "invalid")
        assert name in error["details"]["fields"]
    error = assert_error(anon.get("/api/v1/picks/?cursor=garbage"), 400, "invalid")
    assert "cursor" in error["details"]["fields"]


def test_unauthenticated_and_forbidden(anon, as_reader, published):
    error = assert_error(anon.post("/api/v1/papers/", {"ids": ["2103.10360"]}, format="json"), 401)
    assert error["code"] == "not_authenticated"
    response = anon.get("/api/v1/issues/march-2021/candidates/")
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert_error(
        anon.get("/api/v1/issues/", HTTP_AUTHORIZATION="Token not-a-real-token"), 401, "authentication_failed"
    )
    assert_error(as_reader.get("/api/v1/issues/march-2021/candidates/"), 403, "permission_denied")


def test_not_found_everywhere_under_api(anon, published):
    assert_error(anon.get("/api/v1/issues/no-such-issue/"), 404, "not_found")
    assert_error(anon.get("/api/v1/authors/nobody/"), 404)
    error = assert_error(anon.get("/api/v1/no-such-endpoint/"), 404)
    assert "/api/v1/docs/" in error["message"]
    assert_error(anon.get("/api/v2/issues/"), 404)


def test_method_not_allowed(anon, published):
    response = anon.delete("/api/v1/issues/march-2021/")
    assert_error(response, 405, "method_not_allowed")
    # The wrong method is the answer even when the query string is also wrong for the view.
    assert_error(anon.generic("TRACE", "/api/v1/issues/?cursor=&page_size=1"), 405, "method_not_allowed")


def test_unsupported_media_type(as_curator, published):
    response = as_curator.generic("POST", "/api/v1/papers/", "ids=1", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_not_acceptable(anon, published):
    assert_error(anon.get("/api/v1/issues/", HTTP_ACCEPT="text/csv"), 406, "not_acceptable")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_oversized_body(as_curator, published):
    body = '{"ids": ["' + "x" * 2000 + '"]}'
    response = as_curator.generic("POST", "/api/v1/papers/", body, content_type="application/json")
    assert_error(response, 413, "request_too_large")


def test_conflict_lists_every_problem(as_editor, draft):
    draft.picks.update(why="")
    error = assert_error(as_editor.post("/api/v1/issues/draft-issue/publish/"), 409, "transition_refused")
    assert len(error["details"]["problems"]) == 2
    assert all("“Why”" in problem for problem in error["details"]["problems"])


def test_unexpected_errors_are_500s_in_the_same_shape(anon, published, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.IssueViewSet, "get_object", broken)
    error = assert_error(anon.get("/api/v1/issues/march-2021/"), 500, "server_error")
    assert "boom" not in error["message"]


def test_conditional_get_answers_304(anon, published):
    first = anon.get("/api/v1/issues/march-2021/")
    assert first["Cache-Control"] == "public, max-age=60"
    etag, last_modified = first["ETag"], first["Last-Modified"]

    again = anon.get("/api/v1/issues/march-2021/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert anon.get("/api/v1/issues/march-2021/", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304

    for url in ("/api/v1/issues/", "/api/v1/picks/", "/api/v1/papers/", "/api/v1/authors/"):
        etag = anon.get(url)["ETag"]
        assert anon.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304, url


def test_a_correction_changes_the_etag(anon, published, editor):
    from issues import editing

    etag = anon.get("/api/v1/issues/march-2021/")["ETag"]
    pick = published.picks.get(position=1)
    editing.update_pick(pick, by=editor, data={"why": "Sharper."}, lock_version=pick.lock_version)
    response = anon.get("/api/v1/issues/march-2021/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["picks"][0]["why"] == "Sharper."


def test_anonymous_clients_are_throttled_with_retry_after(anon, published, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "5/minute"},
    }
    for _ in range(3):
        assert anon.get("/api/v1/issues/").status_code == 200
    response = anon.get("/api/v1/issues/")
    error = assert_error(response, 429, "throttled")
    # Up to one slot (1 s of a minute) past the window: curation/limits.py::RollingRate.
    assert 1 <= int(response["Retry-After"]) <= 61
    assert error["details"]["retry_after"] == int(response["Retry-After"])


def test_signed_in_clients_have_their_own_rate(as_curator, anon, published, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1/minute", "user": "4/minute"},
    }
    assert anon.get("/api/v1/issues/").status_code == 200
    assert anon.get("/api/v1/issues/").status_code == 429
    for _ in range(4):
        assert as_curator.get("/api/v1/issues/").status_code == 200
    assert_error(as_curator.get("/api/v1/issues/"), 429)


def test_unknown_candidate_action_and_transition(as_editor, published):
    paper = make_paper()
    # One route per verb: anything else is an unknown endpoint, answered by the API's 404.
    error = assert_error(
        as_editor.post(f"/api/v1/issues/march-2021/candidates/{paper.arxiv_id}/promoteall/"), 404
    )
    assert "/api/v1/docs/" in error["message"]
    assert_error(as_editor.post("/api/v1/issues/march-2021/explode/"), 404)


def test_refusals_before_the_views_have_the_shape_too(anon, as_curator, published, settings):
    error = assert_error(anon.get("/api/v1/issues/?q=%00"), 400)
    assert "NUL" in error["message"]
    settings.MAX_REQUEST_BODY_SIZE = 100
    body = '{"ids": ["' + "1" * 200 + '"]}'
    response = as_curator.generic("POST", "/api/v1/papers/", body, content_type="application/json")
    assert_error(response, 413, "request_too_large")
    # Outside /api/ the site's own pages keep their own format.
    assert anon.get("/issues/?q=%00")["Content-Type"].startswith("text/plain")


def test_a_refused_triage_change_is_a_409(as_curator, draft):
    # Picked papers leave the queue: shortlisting one is refused by triage.decisions.
    picked = draft.picks.get(position=1).paper
    response = as_curator.post(f"/api/v1/issues/draft-issue/candidates/{picked.arxiv_id}/shortlist/")
    error = assert_error(response, 409, "triage_refused")
    assert "picked" in error["message"]


def test_validation_errors_of_the_change_functions_keep_their_field():
    from django.core.exceptions import ValidationError

    from curation.api_errors import api_exception_handler

    response = api_exception_handler(ValidationError({"slug": "The slug is frozen."}), {})
    assert response.status_code == 400
    assert response.data["error"]["details"] == {"fields": {"slug": ["The slug is frozen."]}}
    assert response.data["error"]["message"] == "slug: The slug is frozen."
    whole = api_exception_handler(ValidationError({"__all__": "Not every pick."}), {})
    assert whole.data["error"]["message"] == "Not every pick."
    plain = api_exception_handler(ValidationError("Not every pick."), {})
    assert plain.data["error"]["details"] == {"problems": ["Not every pick."]}


def test_bad_queue_filters_are_400s(as_curator, draft):
    for query, name in [
        ("watch=maybe", "watch"),
        ("code=", "code"),
        ("min_votes=", "min_votes"),
        ("date_from=", "date_from"),
        ("state=", "state"),
        ("date_to=yesterday", "date_to"),
        ("unseen=1", "unseen"),
    ]:
        error = assert_error(
            as_curator.get(f"/api/v1/issues/draft-issue/candidates/?{query}"), 400, "invalid"
        )
        assert name in error["details"]["fields"], query
    assert as_curator.get("/api/v1/issues/draft-issue/candidates/?watch=false&code=true").status_code == 200
