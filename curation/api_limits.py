"""Limits of the JSON API: request rates and body size.

The rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (environment:
API_THROTTLE_ANON, API_THROTTLE_USER) and are read on every request rather
than once at import, so a changed setting takes effect (tests override it).
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonThrottle(AnonRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserThrottle(UserRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

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
