"""What every public read of the API shares: conditional GETs and the shared cache.

Public reads are cacheable: each 200 carries an ETag (a hash of the body) and,
where the objects have one, Last-Modified; a matching If-None-Match or
If-Modified-Since gets 304 with no body, and Cache-Control lets browsers and
shared caches keep the answer for API_CACHE_SECONDS.
"""

import hashlib

from django.conf import settings
from django.http import HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from rest_framework.response import Response

from .. import page_cache

# Shared-cache answers live shorter than pages: a query string makes many more of them.
SHARED_CACHE_SECONDS = 600


class ConditionalReadMixin:
    """ETag / Last-Modified / 304 and Cache-Control for the public read viewsets.

    A viewset says when what it shows last changed with ``last_modified(objects)``
    (the page, or the one object, it serialized); the ETag always comes from the
    rendered body, so any change a client could see changes it.

    A viewset whose answers depend only on published issues and their papers sets
    ``shared_cache = True``: its anonymous 200s are kept with the public pages
    (issues/page_cache.py) under their full path and query string, and
    invalidated with them on any publication change. The lookup comes after
    authentication, throttling and the query-parameter check (``initial``), so
    every request still counts against its client's rate and a bad parameter
    still gets 400.
    """

    shared_cache = False

    def initial(self, request, *args, **kwargs):
        self.shown = []
        self.shared_key = self.shared_version = self.stored = None
        super().initial(request, *args, **kwargs)
        if (
            self.shared_cache
            and settings.PUBLIC_PAGE_CACHE
            and request.method in ("GET", "HEAD")
            and _anonymous(request)
        ):
            key = f"api:{request.get_full_path()}"
            version, entry = page_cache.lookup(key, request)
            if entry is not None:
                self.stored = entry
            elif version is not None:
                self.shared_key, self.shared_version = key, version

    def list(self, request, *args, **kwargs):
        return self._stored_response() or super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._stored_response() or super().retrieve(request, *args, **kwargs)

    def _stored_response(self):
        if self.stored is None:
            return None
        response = HttpResponse(self.stored["content"])
        for name, value in self.stored["headers"]:
            response[name] = value
        return response

    def get_serializer(self, *args, **kwargs):
        if args:
            self.shown = args[0] if kwargs.get("many") else [args[0]]
        return super().get_serializer(*args, **kwargs)

    def last_modified(self, objects):
        """The newest change time among ``objects`` (aware datetime), or None when unknown."""
        return None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        if isinstance(response, Response):
            response.render()
            response["ETag"] = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
            last_modified = self.last_modified(self.shown)
            if last_modified is not None:
                response["Last-Modified"] = http_date(int(last_modified.timestamp()))
            if self.shared_key is not None:
                headers = [
                    (name, response[name])
                    for name in ("Content-Type", "ETag", "Last-Modified")
                    if name in response
                ]
                page_cache.store(
                    self.shared_key,
                    self.shared_version,
                    response.content,
                    headers,
                    timeout=SHARED_CACHE_SECONDS,
                )
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
