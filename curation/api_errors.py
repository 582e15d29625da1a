"""One error shape for the whole JSON API: ``{"error": {"code", "message", "details"}}``.

DRF's own errors, Django's (404, oversized bodies, permission and validation
errors), the product's own refusals (a transition with problems, a stale
edit, a triage change) and anything unexpected all leave through
``api_exception_handler``; clients parse one shape whatever went wrong, and
views never catch them. The product's refusals are defined by the apps above
this one, so each app's API registers how its errors reach clients with
``@api_error(SomeError)`` (issues/api/errors.py, triage/api.py).

The schema class documents that shape on every operation so the OpenAPI file
says what clients will really get.
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from . import api_filters  # noqa: F401 - registers the FilterSet schema extension with the generator

logger = logging.getLogger(__name__)

# The machine-readable ``code`` of each status when the exception has no better one.
CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    411: "length_required",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


class APIConflict(exceptions.APIException):
    """A request that contradicts the current state (a stale edit, a refused transition)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state."

    def __init__(self, message=None, *, code=None, details=None):
        super().__init__(message, code)
        self.details = details


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"
    default_detail = "The request body is larger than the server accepts."


# (exception class, function turning one into an APIException), registered by the apps' APIs.
_DOMAIN_ERRORS = []


def api_error(*exception_classes):
    """Register how a domain error reaches API clients: ``@api_error(TransitionError)`` on a function
    that takes the error and returns the APIException to answer with."""

    def register(translate):
        _DOMAIN_ERRORS.extend((exception_class, translate) for exception_class in exception_classes)
        return translate

    return register


def _as_api_exception(exc):
    """Django's and the domain's exceptions as DRF's; anything else unchanged."""
    for exception_class, translate in _DOMAIN_ERRORS:
        if isinstance(exc, exception_class):
            return translate(exc)
    if isinstance(exc, Http404):
        return exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or "You do not have permission to do this.")
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge(str(exc) or None)
    if isinstance(exc, TooManyFieldsSent | SuspiciousOperation):
        return exceptions.ParseError(str(exc) or "The request is malformed.")
    if isinstance(exc, DjangoValidationError):
        # The change functions name the field when there is one: keep it for clients.
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(
                {
                    # Django's "__all__" is DRF's non_field_errors: the message then names no field.
                    ("non_field_errors" if field == NON_FIELD_ERRORS else field): list(errors)
                    for field, errors in exc.message_dict.items()
                }
            )
        return exceptions.ValidationError(exc.messages)
    return exc


def error_body(status_code, message, *, code=None, details=None):
    return {
        "error": {
            "code": code or CODES.get(status_code, "error"),
            "message": message,
            "details": details if details is not None else {},
        }
    }


def _message_and_details(detail):
    """A one-line message plus DRF's structured detail (field → messages) when there is one."""
    if isinstance(detail, dict):
        field, problems = next(iter(detail.items()), ("", []))
        first = problems[0] if isinstance(problems, list) and problems else problems
        if isinstance(first, dict):
            first = next(iter(first.values()), "")
            first = first[0] if isinstance(first, list) and first else first
        message = str(first) if field in ("non_field_errors", "detail") else f"{field}: {first}"
        return message, {"fields": _plain(detail)}
    if isinstance(detail, list):
        return "; ".join(str(item) for item in detail), {"problems": [str(item) for item in detail]}
    return str(detail), {}


def _plain(detail):
    """ErrorDetail trees → plain lists and dicts of strings."""
    if isinstance(detail, dict):
        return {str(key): _plain(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_plain(item) for item in detail]
    return str(detail)


def _error_code(exc):
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return None


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception becomes the common error shape."""
    exc = _as_api_exception(exc)

    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        message, details = _message_and_details(exc.detail)
        if getattr(exc, "details", None) is not None:
            details = exc.details
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            details = {"retry_after": int(headers["Retry-After"])}
        code = _error_code(exc)
        if exc.status_code == 400 and code in (None, "invalid", "parse_error", "error"):
            code = "parse_error" if isinstance(exc, exceptions.ParseError) else "invalid"
        set_rollback()
        return Response(
            error_body(exc.status_code, message, code=code, details=details),
            status=exc.status_code,
            headers=headers,
        )

    # Anything else is our bug: log it with the traceback, answer in the common shape.
    view = context.get("view")
    logger.exception("Unhandled error in %s", view.__class__.__name__ if view else "API view", exc_info=exc)
    set_rollback()
    return Response(
        error_body(500, "The server failed to handle this request; the error was logged."),
        status=500,
    )


@csrf_exempt  # it changes nothing; a POST to a wrong URL should get the JSON 404, not a CSRF page
def api_not_found(request, *args, **kwargs):
    """Django-level 404 for URLs under /api/ that match no endpoint (outside DRF)."""
    message = f"No API endpoint at {request.path[:200]}. See /api/v1/docs/ for the list."
    if not request.path.endswith("/"):
        message += " API URLs end with a slash."
    return JsonResponse(error_body(404, message), status=404)


class APIErrorShapeMiddleware:
    """Give errors answered outside the API views the API's shape, under /api/ only.

    A middleware's refusal (a NUL byte in the URL, an oversized body), Django's
    CSRF failure page or a proxy-style plain-text error would otherwise reach
    API clients as text or HTML; they get ``{"error": …}`` like every other error.
    """

    # Headers that tell the client what to do next; the rest belong to the old body.
    KEPT_HEADERS = ("Retry-After", "WWW-Authenticate", "Allow", "X-Request-ID")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith("/api/")
            or response.get("Content-Type", "").startswith("application/json")
            or getattr(response, "streaming", False)
        ):
            return response
        message = response.reason_phrase
        if response.get("Content-Type", "").startswith("text/plain"):
            message = response.content.decode("utf-8", "replace").strip()[:300] or message
        shaped = JsonResponse(error_body(response.status_code, message), status=response.status_code)
        for header in self.KEPT_HEADERS:
            if header in response:
                shaped[header] = response[header]
        return shaped


# Schema ---------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable, e.g. not_found, invalid, throttled.")
    message = serializers.CharField(help_text="One line for people, naming the problem.")
    details = serializers.JSONField(
        help_text="Structure for programs: `fields` (field → messages) for invalid input, "
        "`problems` (list) for a refused transition, `retry_after` (seconds) when throttled."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_EXAMPLES = {
    400: ("invalid", "page_size: A valid integer is required.", {"fields": {"page_size": ["…"]}}),
    401: ("not_authenticated", "Authentication credentials were not provided.", {}),
    403: ("permission_denied", "Only editors can publish an issue.", {}),
    404: ("not_found", "No Issue matches the given query.", {}),
    405: ("method_not_allowed", 'Method "DELETE" not allowed.', {}),
    406: ("not_acceptable", "Could not satisfy the request Accept header.", {}),
    409: (
        "conflict",
        "The issue cannot be published.",
        {"problems": ["Pick 2 (2103.00001) has no “Why”."]},
    ),
    413: ("request_too_large", "The request body is larger than the server accepts.", {}),
    415: ("unsupported_media_type", 'Unsupported media type "text/plain" in request.', {}),
    429: ("throttled", "Request was throttled. Expected available in 12 seconds.", {"retry_after": 12}),
    500: ("server_error", "The server failed to handle this request; the error was logged.", {}),
    503: (
        "unavailable",
        "The database is not reachable right now; nothing was changed. Try again in a moment.",
        {"retry_after": 30},
    ),
}
_DESCRIPTIONS = {
    400: "Bad input: malformed JSON, a wrong type, an unknown field or an invalid parameter.",
    401: "Missing or invalid token / session.",
    403: "Signed in, but the role does not allow this.",
    404: "No such object (or not published).",
    405: "The method is not allowed on this URL.",
    406: "The API only answers JSON.",
    409: "Conflicts with the current state: a stale `lock_version` or a refused transition.",
    413: "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE.",
    415: "The body is not `application/json`.",
    429: "Too many requests; retry after the `Retry-After` header's seconds.",
    500: "Unexpected server error.",
    503: "The database is unreachable (an outage or a restart); retry after `Retry-After` seconds.",
}


def error_response(status_code):
    code, message, details = _EXAMPLES[status_code]
    return OpenApiResponse(
        response=ErrorSerializer,
        description=_DESCRIPTIONS[status_code],
        examples=[
            OpenApiExample(
                code,
                value=error_body(status_code, message, code=code, details=details),
                status_codes=[str(status_code)],
                response_only=True,
            )
        ],
    )


class ErrorDocumentingAutoSchema(AutoSchema):
    """The API's schema: the common error responses every operation can really return, and
    nothing written for developers shown to the public.

    Request bodies that refuse unknown fields say so with additionalProperties: false.
    Descriptions come only from ``extend_schema(description=…)``: a view's docstring is
    for the people reading the code. Public reads (``AllowAny``) take no credentials:
    ``security: []``, so the docs show no padlock on them.
    """

    def get_description(self):
        return ""

    def get_auth(self):
        if self._is_public_read():
            return []
        return [auth for auth in super().get_auth() if auth]

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and self._is_public_read():
            operation["security"] = []
        return operation

    def _is_public_read(self):
        return self.method in ("GET", "HEAD") and any(
            isinstance(permission, permissions.AllowAny) for permission in self.view.get_permissions()
        )

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and getattr(serializer, "rejects_unknown_fields", False):
            schema["additionalProperties"] = False
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = [400, 401, 403, 404, 405, 406, 429, 500, 503]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += [409, 413, 415]
        for code in codes:
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(error_response(code), str(code))
        return responses
