import re

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path

from . import health
from .lockout import LockoutAdminAuthenticationForm
from .media import serve_media


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's): send them the static one."""
    # Not permanent: the static file's hashed name changes with it.
    return HttpResponseRedirect(static("favicon.ico"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("triage/", include("triage.urls")),
    path("api/", include("curation.api_urls")),
    path("", include("issues.urls")),
]

# The admin login form says plainly when repeated failures locked an account.
admin.site.login_form = LockoutAdminAuthenticationForm

# A database outage is 503 with Retry-After, not a 500 (curation/health.py).
handler500 = health.server_error

if settings.DEBUG:
    # Uploaded files with the headers that keep them inert (production: the proxy serves them).
    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            serve_media,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
