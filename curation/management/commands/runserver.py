"""runserver that links to the address it serves, in the embedded mode.

Canonical links, feeds, the sitemap and the API's URLs are all built from
``SITE_URL``. Its default is http://127.0.0.1:8000, which is wrong the moment
someone runs ``manage.py runserver 8001`` (or ``make run ADDRESS=…``). So when
``SITE_URL`` is not set and DEBUG is on, this runserver sets it to the address
it listens on before serving anything; a wildcard address (0.0.0.0, ::) becomes
127.0.0.1. Behind anything else, or to serve other machines, set ``SITE_URL``.

Listed in INSTALLED_APPS before whitenoise's runserver, and wraps the next one
down (whitenoise's, which wraps staticfiles' and Django's), as they do.
"""

import os
from importlib import import_module

from django.apps import apps
from django.conf import settings

_WILDCARDS = {"0.0.0.0", "0", "::"}


def _next_runserver():
    names = [app.name for app in apps.get_app_configs()]
    for name in [*names[names.index("curation") + 1 :], "django.core"]:
        try:
            return import_module(f"{name}.management.commands.runserver").Command
        except ImportError:
            continue
    raise ImportError("no runserver command")


def served_site_url(addr, port, *, ipv6=False):
    """The base URL of what runserver serves at ``addr``:``port``."""
    host = "127.0.0.1" if addr in _WILDCARDS else addr
    if ipv6 and host != "127.0.0.1":
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Command(_next_runserver()):
    def inner_run(self, *args, **options):
        # In the process that serves (the autoreloader's child), before the first request.
        if settings.DEBUG and not os.environ.get("SITE_URL"):
            settings.SITE_URL = served_site_url(self.addr, self.port, ipv6=self.use_ipv6)
        super().inner_run(*args, **options)
