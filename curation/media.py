"""Uploaded files served so that a browser never runs them.

Django serves media only with DEBUG on (the embedded mode); in production the
proxy or object store serves them with the same headers (see README,
"Deploying"). Figures are images checked by Pillow on upload; anything else
that ends up under MEDIA_ROOT is offered as a download, never rendered.
"""

from django.views.static import serve

# Types a browser may display inline. SVG is not among them: it can carry script.
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"}


def protect(response):
    """Add the headers that keep an uploaded file inert."""
    response["X-Content-Type-Options"] = "nosniff"
    # Even an HTML or SVG file opened directly gets no script, no plugins, no forms.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in INLINE_TYPES:
        response["Content-Disposition"] = "attachment"
    return response


def serve_media(request, path, document_root=None):
    return protect(serve(request, path, document_root=document_root))
