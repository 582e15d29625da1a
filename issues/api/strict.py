"""Request input that refuses what it doesn't know or can't take as it is.

DRF ignores unknown keys by default and coerces types (``0`` becomes ``"0"``,
``"3"`` becomes ``3``); a client that misspells ``key_insights`` or sends a
number for a title would get a 200 and not what it meant. Bodies here reject
unknown fields and wrong JSON types with 400 naming them, and the schema says
so (``additionalProperties: false``). Views list the query parameters they
take; any other is refused the same way.
"""

from rest_framework import serializers
from rest_framework.exceptions import ValidationError


class StrictSerializer(serializers.Serializer):
    # Read by the schema generator: request bodies get additionalProperties: false.
    rejects_unknown_fields = True

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
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
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class KnownQueryParametersMixin:
    """Refuse query parameters the view doesn't take: a typo must not silently widen a list."""

    query_parameters = ()

    def get_query_parameters(self):
        return self.query_parameters

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        known = self.get_query_parameters()
        unknown = sorted(set(request.query_params) - set(known))
        if unknown:
            allowed = ", ".join(known) or "none"
            raise ValidationError(
                {name[:50]: [f"Unknown query parameter; this endpoint takes: {allowed}."] for name in unknown}
            )
