"""Structured logs: request id on every line of a request, run id on every line of a harvest."""

import io
import json
import logging
import sys
import types

import pytest
from django.conf import settings as django_settings

from curation import logging as curation_logging
from curation.logging import ContextFilter, bind


@pytest.fixture
def json_lines():
    """Collect what the production JSON handler writes, as parsed lines."""
    config = dict(django_settings.LOGGING["formatters"]["json"])
    factory = config.pop("()")
    module, name = factory.rsplit(".", 1)
    formatter = getattr(__import__(module, fromlist=[name]), name)(**config)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


@pytest.mark.django_db
def test_a_request_gets_an_id_in_the_response_and_on_its_log_lines(client, json_lines):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    lines = [line for line in json_lines() if line["logger"] == "django.request"]
    assert lines and lines[-1]["request_id"] == request_id
    assert lines[-1]["level"] == "WARNING"
    assert "Not Found" in lines[-1]["message"]


@pytest.mark.django_db
def test_an_incoming_request_id_is_honoured_and_a_hostile_one_replaced(client, json_lines):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "lb-7f3a-0001"})
    assert response["X-Request-ID"] == "lb-7f3a-0001"
    assert json_lines()[-1]["request_id"] == "lb-7f3a-0001"
    for hostile in ("<script>", "a" * 500, 'x" injected="1'):
        response = client.get("/healthz", headers={"X-Request-ID": hostile})
        assert response["X-Request-ID"] != hostile
        assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_the_id_does_not_outlive_its_request(client, json_lines):
    client.get("/no-such-page/")
    logging.getLogger("after").warning("between requests")
    assert "request_id" not in json_lines()[-1]


def test_bind_puts_the_run_id_on_every_line_inside_and_none_outside(json_lines):
    log = logging.getLogger("papers.harvest")
    with bind(run_id=42):
        log.info("page 1 fetched")
        with bind(page=2):
            log.warning("retrying")
    log.info("done")
    first, second, third = json_lines()[-3:]
    assert first["run_id"] == 42 and first["message"] == "page 1 fetched"
    assert second["run_id"] == 42 and second["page"] == 2
    assert "run_id" not in third


def test_development_text_lines_show_the_bound_fields():
    formatter = curation_logging.TextFormatter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    with bind(run_id=7):
        assert formatter.format(record).endswith("hello [run_id=7]")


def test_sentry_is_optional(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # not installed
    with caplog.at_level(logging.WARNING):
        assert curation_logging.init_sentry("https://key@sentry.example.org/1") is False
    assert "pip install sentry-sdk" in caplog.text

    calls = []
    fake = types.SimpleNamespace(init=lambda **kwargs: calls.append(kwargs))
    monkeypatch.setitem(sys.modules, "sentry_sdk", fake)
    assert curation_logging.init_sentry("https://key@sentry.example.org/1") is True
    assert calls[0]["dsn"] == "https://key@sentry.example.org/1"
    assert calls[0]["send_default_pii"] is False
