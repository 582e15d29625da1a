"""Everything under /api/: version 1 of the JSON API, its schema and docs.

Each app brings its own endpoints (issues/api/urls.py, triage/api_urls.py),
included by name so that this project module imports none of the apps. Any
other URL under /api/ answers 404 in the API's error shape.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .api_errors import api_not_found

v1 = [
    path("", include("issues.api.urls")),
    path("", include("triage.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]

app_name = "api"

urlpatterns = [
    path("v1/", include(v1)),
    # [\s\S], not ".": a path with an encoded newline must get the JSON 404 too.
    re_path(r"^[\s\S]*$", api_not_found),
]
