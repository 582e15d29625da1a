import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from . import health
from .lockout import LockoutAdminAuthenticationForm
from .media import serve_media

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("triage/", include("triage.urls")),
    path("api/", include("curation.api_urls")),
    path("", include("issues.urls")),
]

# The admin login form says plainly when repeated failures locked an account.
admin.site.login_form = LockoutAdminAuthenticationForm

if settings.DEBUG:
    # Uploaded files with the headers that keep them inert (production: the proxy serves them).
    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            serve_media,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
