"""Security headers that Django's SecurityMiddleware does not set.

The public pages carry a Content-Security-Policy without ``unsafe-inline``:
they have no inline script or style (the JSON-LD block is data, which CSP
does not execute), so injected markup could neither run nor restyle the page.
Django's own admin and the API's documentation page are left to their own
policies (``CSP_EXEMPT_PREFIXES``) because they ship inline code we don't own.
"""

from django.conf import settings

DEFAULT_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP)
        self.exempt = tuple(getattr(settings, "CSP_EXEMPT_PREFIXES", ("/admin/", "/api/")))

    def __call__(self, request):
        response = self.get_response(request)
        # Django's DEBUG error pages are inline-styled; they never reach readers.
        debug_page = settings.DEBUG and response.status_code >= 400
        if not request.path.startswith(self.exempt) and not debug_page:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response
