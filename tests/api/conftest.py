"""Fixtures of the API tests: clients signed in with a token per persona, and published content."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import make_issue


def assert_error(response, status, code=None):
    """The common error shape, with the expected status (and code when given)."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def anon():
    return APIClient()


def token_client(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def as_editor(editor):
    return token_client(editor)


@pytest.fixture
def as_curator(curator):
    return token_client(curator)


@pytest.fixture
def as_reader(reader):
    return token_client(reader)


@pytest.fixture
def published(db):
    return make_issue("march-2021", picks=3, status="published")


@pytest.fixture
def draft(db):
    return make_issue("draft-issue", picks=2, status="draft", title="Secret draft")
