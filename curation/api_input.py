"""Request input of the JSON API that refuses what it doesn't know or can't take as it is.

DRF ignores unknown keys by default and coerces types (``0`` becomes ``"0"``,
``"3"`` becomes ``3``); a client that misspells ``key_insights`` or sends a
number for a title would get a 200 and not what it meant. Bodies here reject
unknown fields and wrong JSON types with 400 naming them, and the schema says
so (``additionalProperties: false``). Views take only the query parameters
their filters, pages and ordering declare; any other is refused the same way.

The JSON parser refuses what Python's ``json`` accepts but the rest of the
stack cannot: nesting deep enough to exhaust the recursion limit (a 500 from
the parser itself), and lone UTF-16 surrogates (``"\\ud800"``), which no UTF-8
text — and so no PostgreSQL column — can hold.
"""

from rest_framework import serializers
from rest_framework.exceptions import ParseError, ValidationError

from .api_limits import LimitedJSONParser

# Deeper than any body the API documents (the deepest is two levels): refuse early.
MAX_JSON_DEPTH = 64


class StrictJSONParser(LimitedJSONParser):
    """JSON bodies no deeper than MAX_JSON_DEPTH and without lone surrogates (plus the size limit)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json's C scanner recurses per level: a 100,000-deep array ends here, not in a 500.
            raise ParseError(_too_deep()) from None
        _check_depth_and_text(data)
        return data


def _too_deep():
    return f"JSON parse error - the body is nested more than {MAX_JSON_DEPTH} levels deep."


def _check_depth_and_text(data):
    """Walk the parsed body without recursion: depth within MAX_JSON_DEPTH, every string UTF-8."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ParseError(_too_deep())
            if isinstance(value, dict):
                for key, item in value.items():
                    _check_text(key)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)


def _check_text(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(
            "JSON parse error - a string holds a lone surrogate (\\ud800–\\udfff without its pair)."
        ) from None


class StrictSerializer(serializers.Serializer):
    # Read by the schema generator (curation/api_errors.py): request bodies get
    # additionalProperties: false.
    rejects_unknown_fields = True

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key[:50]: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictURLField(serializers.URLField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: no strings, floats or booleans."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """One of the choices with its JSON type: 1 is a vote, "1" is not."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not any(data == c and type(data) is type(c) for c in self.choices):
            self.fail("invalid_choice", input=str(data)[:50])
        return super().to_internal_value(data)


class KnownQueryParametersMixin:
    """Refuse query parameters the view doesn't take: a typo must not silently widen a list.

    A view takes its FilterSet's filters, and ``cursor``, ``page_size`` and
    ``ordering`` when it is paginated; nothing when it is not a list.
    """

    def known_query_parameters(self):
        known = set()
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and self.is_list():
            known |= set(filterset_class.base_filters)
        paginator = self.paginator if self.is_list() else None
        if paginator is not None:
            known |= set(paginator.query_parameters)
        return known

    def is_list(self):
        return getattr(self, "action", "list") == "list" and self.request.method in ("GET", "HEAD")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not hasattr(self, request.method.lower()):
            return  # a method the view doesn't take: its 405 says more than the parameters would
        known = self.known_query_parameters()
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise ValidationError(
                {name[:50]: [f"Unknown query parameter; this endpoint takes: {allowed}."] for name in unknown}
            )
