"""What every public read of the API shares: cursor pages, ordering, conditional GETs, URLs.

Public reads are cacheable: each 200 carries an ETag (a hash of the body) and,
where the objects have one, Last-Modified; a matching If-None-Match or
If-Modified-Since gets 304 with no body, and Cache-Control lets browsers and
shared caches keep the answer for API_CACHE_SECONDS.
"""

import functools
import hashlib
from datetime import UTC

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from issues import page_cache

# Shared-cache answers live shorter than pages: a query string makes many more of them.
SHARED_CACHE_SECONDS = 600


@functools.lru_cache(maxsize=32)
def _path_template(name, kwarg):
    marker = "__value__"
    return reverse(name, kwargs={kwarg: marker}).replace(marker, "{}")


def public_url(name, kwarg, value):
    """SITE_URL + reverse(name, kwargs={kwarg: value}), with the reverse done once per URL name.

    Lists serialize thousands of URLs; reversing each one costs more than the
    rest of the row. Slugs and arXiv ids need no quoting, so a template is exact.
    """
    return f"{settings.SITE_URL}{_path_template(name, kwarg).format(value)}"


def utc_iso(value):
    """ISO 8601 in UTC with a Z, as UTCDateTimeField writes it; None stays None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def absolute_url(path):
    """SITE_URL + path: the stable public address, whatever host the API was called on."""
    if not path:
        return ""
    if path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}{path}"


class UTCDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC with a Z, whatever TIME_ZONE the admin uses."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M:%SZ")
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)


class Ordering:
    """The ``ordering`` query parameter of a list: named choices, each a tuple of model orderings.

    Unknown values are refused with 400 naming the choices (a silently
    ignored typo would return a differently ordered list than asked for).
    """

    def __init__(self, choices, default):
        self.choices = choices
        self.default = default

    def resolve(self, request):
        value = request.query_params.get("ordering", self.default)
        if value not in self.choices:
            raise ValidationError(
                {"ordering": [f"Unknown ordering “{value[:50]}”; use one of: {', '.join(self.choices)}."]}
            )
        return self.choices[value]

    def parameter(self):
        return OpenApiParameter(
            "ordering",
            OpenApiTypes.STR,
            enum=list(self.choices),
            description=f"Sort order; a leading “-” means descending. Default `{self.default}`.",
        )


# The query parameters of every cursor-paginated, ordered list.
PAGE_PARAMETERS = ("cursor", "page_size", "ordering")


class CursorPage(CursorPagination):
    """Cursor pages: stable under inserts, no COUNT query, ``page_size`` up to API_MAX_PAGE_SIZE."""

    page_size_query_param = "page_size"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        maximum = settings.API_MAX_PAGE_SIZE
        if raw in (None, ""):
            return settings.API_PAGE_SIZE
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"page_size": ["A valid integer is required."]}) from None
        if not 1 <= size <= maximum:
            raise ValidationError({"page_size": [f"Must be between 1 and {maximum}."]})
        return size

    def get_ordering(self, request, queryset, view):
        return view.ordering.resolve(request)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The opaque cursor from a previous page's `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {settings.API_PAGE_SIZE}, "
                f"at most {settings.API_MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
            },
        ]


class ConditionalReadMixin:
    """ETag / Last-Modified / 304 and Cache-Control for the public read views.

    A view sets ``self.last_modified`` (an aware datetime) when it knows it;
    the ETag always comes from the rendered body, so any change a client
    could see changes it.

    A view whose answer depends only on published issues and their papers sets
    ``shared_cache = True``: its anonymous 200s are kept with the public pages
    (issues/page_cache.py) under their full path and query string, and
    invalidated with them on any publication change. The lookup comes after
    authentication, throttling and the query-parameter check, so every request
    still counts against its client's rate and a bad parameter still gets 400.
    """

    last_modified = None
    shared_cache = False
    _shared = None  # (key, version) while this request may fill the shared cache

    def get(self, request, *args, **kwargs):
        if self.shared_cache and settings.PUBLIC_PAGE_CACHE and _anonymous(request):
            key = f"api:{request.get_full_path()}"
            version, entry = page_cache.lookup(key)
            if entry is not None:
                response = HttpResponse(entry["content"])
                for name, value in entry["headers"]:
                    response[name] = value
                return response
            if version is not None:
                self._shared = key, version
        return super().get(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        if isinstance(response, Response):
            response.render()
            response["ETag"] = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
            if self.last_modified is not None:
                response["Last-Modified"] = http_date(int(self.last_modified.timestamp()))
            if self._shared is not None:
                key, version = self._shared
                headers = [
                    (name, response[name])
                    for name in ("Content-Type", "ETag", "Last-Modified")
                    if name in response
                ]
                page_cache.store(key, version, response.content, headers, timeout=SHARED_CACHE_SECONDS)
        # else: a stored answer, with its own ETag and Last-Modified.
        response = page_cache.conditional(request, response)
        patch_cache_control(response, public=True, max_age=settings.API_CACHE_SECONDS)
        patch_vary_headers(response, ["Accept"])
        return response


def _anonymous(request):
    return request.auth is None and not request.user.is_authenticated


def latest(*values):
    """The newest of some datetimes, ignoring None."""
    present = [value for value in values if value is not None]
    return max(present) if present else None
