"""Output fields every app's API shares: UTC timestamps and absolute links from SITE_URL.

Links in the API's JSON are the site's public addresses, built from
``settings.SITE_URL`` and never from the request's Host header: answers are
shared between clients (the shared cache, proxies), so a link must not depend
on who asked.
"""

import functools
from datetime import UTC

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


@functools.lru_cache(maxsize=64)
def _path_template(name, kwarg):
    marker = "__value__"
    return reverse(name, kwargs={kwarg: marker}).replace(marker, "{}")


def public_url(name, kwarg, value):
    """SITE_URL + reverse(name, kwargs={kwarg: value}), with the reverse done once per URL name.

    Lists serialize thousands of URLs; reversing each one costs more than the
    rest of the row. Slugs and arXiv ids need no quoting, so a template is exact.
    """
    return f"{settings.SITE_URL}{_path_template(name, kwarg).format(value)}"


def absolute_url(path):
    """SITE_URL + path (a media file's URL, say), unless it is absolute already."""
    if not path:
        return ""
    if path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}{path}"


class UTCDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC with a Z (``2021-04-06T09:00:00Z``), whatever TIME_ZONE the admin uses."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", ISO_UTC)
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)

    def to_representation(self, value):
        # DRF's version reads settings and checks the format on every value; a page
        # of 50 picks formats hundreds of them.
        return value.astimezone(UTC).strftime(ISO_UTC) if value else None


@extend_schema_field(OpenApiTypes.URI)
class SiteURLField(serializers.Field):
    """The public URL of an object, from SITE_URL and its URL name (read-only).

    ``url = SiteURLField("issues:issue", "slug")`` links an issue by its ``slug``.
    """

    def __init__(self, url_name, kwarg, **kwargs):
        kwargs.setdefault("source", kwarg)
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.url_name = url_name
        self.kwarg = kwarg
        self.template = None

    def to_representation(self, value):
        # DRF builds fields anew for each request: the template is made once per request,
        # not once per row, and follows a changed SITE_URL.
        if self.template is None:
            self.template = f"{settings.SITE_URL}{_path_template(self.url_name, self.kwarg)}"
        return self.template.format(value)
