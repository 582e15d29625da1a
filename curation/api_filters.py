"""What the apps' FilterSets share: strict filter types and exact schema for every filter.

django-filter turns a value it cannot read into "no filter" in places (a
BooleanFilter given ``maybe``, a NumberFilter given ``2021.5`` for a year);
a client would get a wider list than it asked for. These filters refuse such
values with the common 400 naming the parameter. The schema extension adds
each filter's limits (maxLength, minimum, maximum, integer) to the generated
parameters, so the OpenAPI file says exactly what a list takes.
"""

import django_filters
from django import forms
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension


class TrueFalseField(forms.Field):
    """``true`` or ``false``, as the schema's boolean says; anything else, an empty value
    included, is an error. An absent parameter is no filter."""

    default_error_messages = {"invalid": "Use true or false."}
    VALUES = {"true": True, "false": False}

    def to_python(self, value):
        if value is None:
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class TrueFalseFilter(django_filters.BooleanFilter):
    # django-filter's own boolean widgets read "maybe" as "no filter": a plain text input
    # hands the value to the field, which refuses it.
    field_class = TrueFalseField


class WholeNumberField(forms.IntegerField):
    """An integer; ``year=`` with no value is an error (the schema says integer), not "no filter"."""

    def to_python(self, value):
        if value == "":
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (``min_value``/``max_value`` bound it), not DecimalField's 2021.5."""

    field_class = WholeNumberField


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the request names none of the filters.

    Building a FilterSet builds and validates a form; most reads filter nothing,
    and for them that was a twentieth of a page of 50 picks (bench/api.py).
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not set(request.query_params) & set(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class FilterSetParameters(DjangoFilterExtension):
    """django-filter's schema, plus the limits of each filter's form field."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        field = filter_field.field
        for parameter in parameters:
            schema = parameter["schema"]
            if isinstance(field, forms.IntegerField):
                schema["type"] = "integer"
                schema.pop("format", None)
            if getattr(field, "max_length", None):
                schema["maxLength"] = field.max_length
            if getattr(field, "min_value", None) is not None:
                schema["minimum"] = field.min_value
            if getattr(field, "max_value", None) is not None:
                schema["maximum"] = field.max_value
        return parameters
