"""Pages of long lists: the API's cursor pages, and counts without COUNT(*) for the admin.

The API pages every list with a cursor (stable under inserts, no COUNT query);
its links are built from SITE_URL and its cursor, which a client can edit, is
checked before it reaches the database.

An exact count of a big table reads every row (seconds on PostgreSQL). Admin
pages and the triage queue only need "about how many": PostgreSQL's own
estimate — pg_class.reltuples for a whole table, the planner's row estimate
for a filtered query — costs a millisecond. Small results are counted exactly.
"""

import json
import math

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination

# Below this estimate an exact count is cheap, and exact numbers read better.
EXACT_BELOW = 10_000


def estimate_count(queryset, *, exact_below=None):
    """The number of rows in ``queryset``: estimated on PostgreSQL when it is big.

    Below ``exact_below`` (default EXACT_BELOW) the rows are counted exactly;
    the triage queue passes 0 (with a search, the planner can guess small while
    an exact count would still read every match).
    """
    exact_below = EXACT_BELOW if exact_below is None else exact_below
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.count()
    with connection.cursor() as cursor:
        if not queryset.query.where:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
            estimate = row[0] if row else -1
        else:
            sql, params = queryset.order_by().values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            estimate = int(plan[0]["Plan"]["Plan Rows"])
    # reltuples is -1 before the first ANALYZE: count then.
    if estimate < exact_below:
        return queryset.count()
    return estimate


class EstimatedCountPaginator(Paginator):
    """A paginator for big admin changelists: its count is an estimate (see estimate_count)."""

    @cached_property
    def count(self):
        if hasattr(self.object_list, "query"):
            return estimate_count(self.object_list)
        return super().count


# The API's cursor pages ------------------------------------------------------------


class Ordering:
    """The ``ordering`` query parameter of a list: named choices, each a tuple of model orderings.

    The first ordering of each choice is what cursors remember a position in;
    the last one must be unique (``pk``) so that pages never skip or repeat a row.
    Unknown values are refused with 400 naming the choices (a silently ignored
    typo would return a differently ordered list than asked for).
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


def _invalid_cursor():
    return ValidationError({"cursor": ["Invalid cursor: use the `next` or `previous` link as it is."]})


class CursorPage(CursorPagination):
    """Cursor pages of ``view.ordering``: ``page_size`` up to API_MAX_PAGE_SIZE, links from SITE_URL.

    The cursor is base64 of the position the page starts after. Clients can
    edit it, so its position is converted with the ordering field's own type
    before the query (a NUL byte, text where a date or a score belongs, an
    infinite number): anything that doesn't convert is the common 400, not a
    database error.
    """

    page_size_query_param = "page_size"
    # The query parameters a paginated list takes besides its filters.
    query_parameters = ("cursor", "page_size", "ordering")

    def paginate_queryset(self, queryset, request, view=None):
        ordering = view.ordering.resolve(request)
        self.position_field = _output_field(queryset, ordering[0].lstrip("-"))
        page = super().paginate_queryset(queryset, request, view)
        # Links name the site, never the Host header a client sent: answers are shared
        # (cached) between clients, and a forged Host would reach every one of them.
        self.base_url = f"{settings.SITE_URL}{request.get_full_path()}"
        return page

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        maximum = settings.API_MAX_PAGE_SIZE
        if raw is None:
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

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise _invalid_cursor() from None
        if cursor is None or cursor.position is None:
            return cursor
        return Cursor(cursor.offset, cursor.reverse, self._position(cursor.position))

    def _position(self, text):
        if "\x00" in text or self.position_field is None:
            raise _invalid_cursor()
        try:
            value = self.position_field.to_python(text)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise _invalid_cursor() from None
        if isinstance(value, float) and not math.isfinite(value):
            raise _invalid_cursor()
        return value

    def get_schema_operation_parameters(self, view):
        parameters = [
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
        ordering = view.ordering
        parameters.append(
            {
                "name": "ordering",
                "required": False,
                "in": "query",
                "description": f"Sort order; a leading “-” means descending. Default `{ordering.default}`.",
                "schema": {"type": "string", "enum": list(ordering.choices)},
            }
        )
        return parameters

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last one.",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page, or null on the first one.",
                },
                "results": schema,
            },
        }


def _output_field(queryset, name):
    """The model field (or annotation's output field) a cursor position of ``name`` converts with."""
    if name in queryset.query.annotations:
        return queryset.query.annotations[name].output_field
    try:
        return queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
