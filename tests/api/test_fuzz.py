"""Property-based fuzzing of the whole API against a live server (schemathesis).

Every operation of /api/v1/schema/ is called with generated valid and invalid
input, as an editor (so the curation endpoints run too, not just their 401),
over the demo issue. Each response must be a non-5xx that conforms to the
schema: a documented status, content type, headers and body. The example
count is modest so the run takes a couple of minutes in CI.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from issues.demo.loader import load_demo
from papers.fake_arxiv.testing import fake_arxiv, harvest_settings  # noqa: F401

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api_schema(live_server, harvest_settings, editor):  # noqa: F811 - the fixture imported above
    # The fuzzer sends hundreds of requests a minute: the limits are tested elsewhere.
    harvest_settings.REST_FRAMEWORK = {
        **harvest_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
    }
    load_demo()
    token = Token.objects.create(user=editor)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/")
    schema.config.headers = {"Authorization": f"Token {token.key}"}
    # Real objects in the paths, so generated queries and bodies reach the code behind the
    # lookup (unknown slugs and ids, and their 404s, are covered by test_errors.py).
    schema.config.parameters = {"path.slug": "april-2021", "path.arxiv_id": "2103.03230"}
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    # Generated cases only: schemathesis' coverage cases (run in the explicit phase) are
    # hundreds of requests per operation, minutes of CI for little more.
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_within_its_schema(case, api_schema):
    token = api_schema.config.headers["Authorization"]
    case.call_and_validate(headers={"Authorization": token}, checks=CHECKS, timeout=30)
