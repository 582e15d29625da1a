"""Structured logs: a request id on every line of a request, a run id on every line of a harvest.

``bind(**fields)`` adds fields to every log line written inside the ``with``
block, in this thread or task only (a context variable)::

    with curation.logging.bind(run_id=run.pk):
        ...  # every line logged here carries "run_id"

``RequestIdMiddleware`` binds ``request_id`` for the whole request (an
incoming ``X-Request-ID`` is honoured, else one is made up) and returns it
in the response's ``X-Request-ID``; Celery tasks get ``task_id``.
"""

import contextlib
import contextvars
import logging
import re
import uuid

from celery import signals as celery_signals
from django.core import signals as django_signals

log = logging.getLogger(__name__)

_fields = contextvars.ContextVar("curation_log_fields", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed into a response header and every log line: accept
# only what a proxy or a client would plausibly send.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def current_fields():
    """The fields bound right now (a copy)."""
    return dict(_fields.get() or {})


@contextlib.contextmanager
def bind(**fields):
    """Add ``fields`` to every log line written inside the block."""
    token = _fields.set({**(_fields.get() or {}), **fields})
    try:
        yield
    finally:
        _fields.reset(token)


class ContextFilter(logging.Filter):
    """Copies the bound fields onto each record (the JSON formatter emits them as keys)."""

    def filter(self, record):
        for key, value in (_fields.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class TextFormatter(logging.Formatter):
    """Readable lines for a terminal, with the bound fields appended."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record):
        text = super().format(record)
        # Formatting happens in the thread that logged, so the bound fields are still current.
        fields = _fields.get()
        if fields:
            text += " [" + " ".join(f"{key}={value}" for key, value in fields.items()) + "]"
        return text


class RequestIdMiddleware:
    """Binds the request id for the request and returns it as ``X-Request-ID``.

    The id stays bound until ``request_finished``: Django logs 4xx/5xx
    responses (``django.request``) after the middleware chain has returned.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        _fields.set({**(_fields.get() or {}), "request_id": request_id})
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _forget_request(**kwargs):
    fields = _fields.get()
    if fields and "request_id" in fields:
        _fields.set({k: v for k, v in fields.items() if k != "request_id"} or None)


django_signals.request_finished.connect(_forget_request, dispatch_uid="curation.logging.forget_request")

# Celery tasks: every line a task logs carries its task id. The worker runs
# one task at a time per process (prefork) or thread, so a plain token per
# task id is enough.
_task_tokens = {}


def _task_started(task_id=None, task=None, **kwargs):
    _task_tokens[task_id] = _fields.set(
        {**(_fields.get() or {}), "task_id": task_id, "task": getattr(task, "name", "")}
    )


def _task_finished(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            _fields.reset(token)
        except ValueError:  # reset from another context (eager tasks run inline)
            _fields.set(None)


celery_signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="curation.logging.task_started")
celery_signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="curation.logging.task_finished")


def init_sentry(dsn, *, environment="production"):
    """Send errors to Sentry if the optional ``sentry-sdk`` is installed; returns whether it is on."""
    try:
        import sentry_sdk
    except ImportError:
        logging.getLogger(__name__).warning(
            "SENTRY_DSN is set but sentry-sdk is not installed (pip install sentry-sdk); errors stay in the logs."
        )
        return False
    # The Django, Celery and logging integrations switch themselves on when
    # their libraries are importable. No personal data: editors' emails stay here.
    sentry_sdk.init(dsn=dsn, environment=environment, send_default_pii=False)
    return True
