"""The OpenAPI schema and the docs: complete, and served without any CDN."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


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
        "/api/v1/issues/{slug}/candidates/{arxiv_id}/{action}/",
        "/api/v1/issues/{slug}/picks/",
        "/api/v1/issues/{slug}/picks/{id}/",
        "/api/v1/issues/{slug}/picks/reorder/",
        "/api/v1/issues/{slug}/{transition}/",
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
