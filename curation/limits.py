"""Refuse requests no page can serve before anything reads them.

- A body larger than ``MAX_REQUEST_BODY_SIZE`` (by Content-Length): 413.
  Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not cover file uploads; this
  caps every request, uploads included (the proxy should cap it too).
- A NUL byte in the path or the query string: 400. PostgreSQL cannot store
  or compare text containing NUL, so one reaching a query would be a 500.
"""

from django.conf import settings
from django.http import HttpResponse


def _refuse(status, message):
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


class RequestLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(400, "Invalid Content-Length.")
        if length > settings.MAX_REQUEST_BODY_SIZE:
            limit_mb = settings.MAX_REQUEST_BODY_SIZE / (1024 * 1024)
            return _refuse(413, f"The request is too large (limit {limit_mb:g} MB).")
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in query or "%00" in query:
            return _refuse(400, "The address contains a NUL character, which no page accepts.")
        return self.get_response(request)
