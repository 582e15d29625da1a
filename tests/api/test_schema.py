"""The OpenAPI schema and the docs: complete, and served without any CDN."""

import os
import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db

TRIAGE_VERBS = ["shortlist", "reject", "reset", "vote", "undo"]
TRANSITIONS = ["submit", "schedule", "publish", "unpublish"]


@pytest.fixture
def schema(anon):
    response = anon.get("/api/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_lists_every_endpoint_with_its_errors(schema):
    paths = set(schema["paths"])
    assert {
        "/api/v1/issues/",
        "/api/v1/issues/{slug}/",
        "/api/v1/picks/",
        "/api/v1/papers/",
        "/api/v1/papers/{arxiv_id}/",
        "/api/v1/authors/",
        "/api/v1/authors/{slug}/",
        "/api/v1/issues/{slug}/candidates/",
        *(f"/api/v1/issues/{{slug}}/candidates/{{arxiv_id}}/{verb}/" for verb in TRIAGE_VERBS),
        "/api/v1/issues/{slug}/picks/",
        "/api/v1/issues/{slug}/picks/{id}/",
        "/api/v1/issues/{slug}/picks/reorder/",
        *(f"/api/v1/issues/{{slug}}/{verb}/" for verb in TRANSITIONS),
    } <= paths
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("400", "401", "403", "404", "429", "500"):
                assert status in responses, (method, path, status)
                assert responses[status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }
            assert operation.get("summary"), (method, path)
    picks = schema["paths"]["/api/v1/picks/"]["get"]
    names = {p["name"] for p in picks["parameters"]}
    assert {
        "issue",
        "category",
        "author",
        "year",
        "has_code",
        "q",
        "ordering",
        "cursor",
        "page_size",
    } <= names
    page_size = next(p for p in picks["parameters"] if p["name"] == "page_size")
    assert page_size["schema"]["maximum"] == 100
    # Unknown fields are refused, and the schema says so.
    assert schema["components"]["schemas"]["AddPapersRequest"]["additionalProperties"] is False


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def _request_body(schema, operation):
    """(whether a body is required, its component resolved), or None when the operation takes none."""
    body = operation.get("requestBody")
    if body is None:
        return None
    ref = body["content"]["application/json"]["schema"]["$ref"]
    return body.get("required", False), schema["components"]["schemas"][ref.split("/")[-1]]


def test_each_verb_is_an_operation_that_says_exactly_what_it_takes(schema):
    operations = {(path, method): operation for path, method, operation in _operations(schema)}
    candidate = "/api/v1/issues/{slug}/candidates/{arxiv_id}"

    required, vote = _request_body(schema, operations[(f"{candidate}/vote/", "post")])
    assert required and set(vote["properties"]) == {"value"} and vote["required"] == ["value"]
    assert vote["additionalProperties"] is False
    for verb in ("shortlist", "reject"):
        required, note = _request_body(schema, operations[(f"{candidate}/{verb}/", "post")])
        assert not required and set(note["properties"]) == {"note"} and not note.get("required")
    for verb in ("reset", "undo"):
        assert _request_body(schema, operations[(f"{candidate}/{verb}/", "post")]) is None

    required, scheduled = _request_body(schema, operations[("/api/v1/issues/{slug}/schedule/", "post")])
    assert (
        required
        and set(scheduled["properties"]) == {"publish_at"}
        and scheduled["required"] == ["publish_at"]
    )
    for verb in ("submit", "publish", "unpublish"):
        assert _request_body(schema, operations[(f"/api/v1/issues/{{slug}}/{verb}/", "post")]) is None

    _, edit = _request_body(schema, operations[("/api/v1/issues/{slug}/picks/{id}/", "patch")])
    assert edit["required"] == ["lock_version"]


def test_operation_ids_name_what_they_do(schema):
    ids = {(path, method): operation["operationId"] for path, method, operation in _operations(schema)}
    assert ids[("/api/v1/issues/{slug}/publish/", "post")] == "publish_issue"
    assert ids[("/api/v1/issues/{slug}/schedule/", "post")] == "schedule_issue"
    assert ids[("/api/v1/issues/{slug}/candidates/{arxiv_id}/vote/", "post")] == "vote_on_candidate"
    assert ids[("/api/v1/papers/", "post")] == "add_papers"
    assert ids[("/api/v1/issues/{slug}/", "get")] == "get_issue"
    assert len(set(ids.values())) == len(ids)
    # No generated "<path>_create" / "<path>_list" names left.
    assert not [name for name in ids.values() if name.endswith(("_create", "_retrieve", "_partial_update"))]


def test_public_reads_take_no_credentials_and_curation_needs_them(schema):
    for path, method, operation in _operations(schema):
        public = method == "get" and not path.startswith(
            ("/api/v1/issues/{slug}/picks/", "/api/v1/issues/{slug}/cand")
        )
        if public:
            assert operation["security"] == [], (method, path)
        else:
            assert operation["security"] and {} not in operation["security"], (method, path)


def test_no_docstring_becomes_a_public_description(schema):
    from curation import api_input
    from issues.api import reads, views

    developer_texts = [
        api_input.KnownQueryParametersMixin.__doc__,
        reads.ConditionalReadMixin.__doc__,
        views.PublicReadMixin.__doc__,
        views.IssueStaffMixin.__doc__,
        views.IssueWorkflowViewSet.__doc__,
    ]
    for path, method, operation in _operations(schema):
        description = operation.get("description", "")
        for text in developer_texts:
            assert text.strip()[:40] not in description, (method, path)


def test_the_schema_validates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_docs_are_served_from_local_static_files(anon):
    for url in ("/api/v1/docs/",):
        response = anon.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources
        for source in sources:
            assert not source.startswith(("http://", "https://", "//")), source
            if source.startswith("/static/"):
                assert finders.find(source.removeprefix("/static/")), source
