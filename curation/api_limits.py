"""Limits of the JSON API: request rates and body size.

The rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (environment:
API_THROTTLE_ANON, API_THROTTLE_USER) and are read on every request rather
than once at import, so a changed setting takes effect (tests override it).

DRF's own throttles keep a list of timestamps per client that each request
reads and writes back whole: simultaneous requests all read the same list
and all pass (3.2× the anonymous limit got through under 8 connections), and
DRF's client identity trusts whatever X-Forwarded-For the client sends. These
count with ``curation.limits.RollingRate`` (atomic counters in Redis) and
identify anonymous clients by ``curation.limits.client_address``, the same
address the login lockout uses.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from .limits import RollingRate, client_address


class AtomicRateMixin:
    """DRF's rate parsing and cache keys, counted with atomic counters."""

    rolling = None

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_address(request)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.rolling = RollingRate(key, self.num_requests, self.duration)
        return self.rolling.allow()

    def wait(self):
        return self.rolling.wait if self.rolling is not None else None


class AnonThrottle(AtomicRateMixin, AnonRateThrottle):
    pass


class UserThrottle(AtomicRateMixin, UserRateThrottle):
    def get_cache_key(self, request, view):
        # Signed-in clients only: anonymous ones are AnonThrottle's (DRF's UserRateThrottle
        # would count them a second time, by address, at the signed-in rate).
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class LimitedJSONParser(JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE.

    DRF reads the request stream directly, which skips Django's own size
    check on ``request.body``; without this a huge body would be read whole.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            request = (parser_context or {}).get("request")
            declared = request.META.get("CONTENT_LENGTH") if request is not None else None
            if declared and declared.isdigit() and int(declared) > limit:
                # The exception handler turns this into 413 in the error shape.
                raise RequestDataTooBig(f"The request body is larger than {limit} bytes.")
        return super().parse(stream, media_type, parser_context)
