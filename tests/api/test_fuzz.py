"""The schema matches the behaviour: schemathesis against a live server, as an editor, every phase.

``schemathesis run`` reads /api/v1/schema/ from a live server over the demo
issue and calls every operation with an editor's token — so the curation
endpoints run for real, not just their 401 — in all four phases: the schema's
examples, coverage (boundary and invalid values of every parameter and body
field), fuzzing (generated valid and invalid input) and stateful (sequences
of calls linked by the ids one response gives the next request: add a pick,
read it, edit it, remove it…). Every response must be a non-5xx that conforms
to the schema: a documented status, content type, headers and body; invalid
input must be refused; a removed pick must be gone; the curation endpoints
must refuse a request without the token.

Runs on PostgreSQL (marked ``postgres``: CI runs it there), in a couple of
minutes: a fixed seed and a bounded number of examples per operation.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections
from rest_framework.authtoken.models import Token

from issues.demo.loader import load_demo
from issues.models import Issue
from tests.conftest import make_issue, make_paper

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Every check schemathesis has but one: positive_data_acceptance expects every schema-valid
# request to succeed, while a valid request can rightly be refused by the product's rules
# (publishing an issue with an incomplete pick is 409; scheduling one beyond the allowed
# horizon is 400), which no OpenAPI schema can express.
EXCLUDED_CHECKS = "positive_data_acceptance"

CONFIG = """\
[generation]
max-examples = {examples}
deterministic = true
database = "none"
# The token goes in a header; the session cookie is the other way in, not a missing parameter.
with-security-parameters = false

# A refusal for the state of an issue or a paper (409) is a rejection too: a request without
# a body, valid on its own, can meet one.
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422]

[phases.coverage]
generate-duplicate-query-parameters = false
unexpected-methods = ["DELETE", "TRACE"]

[phases.stateful]
max-steps = 8
inference = {{ algorithms = ["location-headers", "dependency-analysis"] }}

# Real objects in the paths, so generated queries and bodies reach the code behind the lookup
# (unknown slugs and ids, and their 404s, are covered by tests/api/test_errors.py): the demo
# issue, a paper in its triage queue.
[parameters]
"path.slug" = "april-2021"
"path.arxiv_id" = "{candidate}"

# The transitions work on an issue of their own: unpublishing the demo issue would leave
# every later read of it a 404.
[[operations]]
include-operation-id = ["submit_issue", "schedule_issue", "publish_issue", "unpublish_issue"]
parameters = {{ "path.slug" = "{workflow}" }}

[[operations]]
include-operation-id = ["get_author"]
parameters = {{ "path.slug" = "{author}" }}

[[operations]]
include-operation-id = ["get_paper"]
parameters = {{ "path.arxiv_id" = "{pick}" }}

# The triage queue takes the queue page's dozen filters: the coverage phase tries thousands of
# their combinations (minutes of CI). Its examples, fuzzing (valid and invalid values) and
# stateful phases still run, and tests/api/test_errors.py covers each filter's bad values.
[[operations]]
include-operation-id = ["list_candidates"]
phases = {{ coverage = {{ enabled = false }} }}

# Adding a paper to the database does not publish it: GET papers/<id>/ shows papers picked in
# a published issue only, so the link schemathesis infers from the ids is not "the resource".
[[operations]]
include-operation-id = ["add_papers"]
checks = {{ ensure_resource_availability = {{ enabled = false }} }}
"""


def _schemathesis():
    return shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"


def test_every_operation_answers_within_its_schema(
    live_server, harvest_settings, editor, tmp_path, monkeypatch
):
    # The live server answers each request in a thread of its own: with persistent connections
    # every one of those threads would keep a PostgreSQL connection open until the server stops.
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)
    # The fuzzer sends hundreds of requests a minute: the limits are tested elsewhere.
    harvest_settings.REST_FRAMEWORK = {
        **harvest_settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
    }
    load_demo()
    demo = Issue.objects.get(slug="april-2021")
    candidate = make_paper("2103.99001", title="A candidate in the demo issue's queue")
    workflow = make_issue("fuzz-workflow", picks=2, status="published")
    token = Token.objects.create(user=editor)
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        CONFIG.format(
            examples=5,
            candidate=candidate.arxiv_id,
            workflow=workflow.slug,
            author=demo.picks.first().paper.authors.first().slug,
            pick=demo.picks.first().paper.arxiv_id,
        )
    )

    run = subprocess.run(
        [
            _schemathesis(),
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/api/v1/schema/",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--checks",
            "all",
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--header",
            f"Authorization: Token {token.key}",
            "--seed",
            "12",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--no-color",
            "--output-truncate",
            "false",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    report = run.stdout[-20000:] + run.stderr[-5000:]
    assert run.returncode == 0, report
