"""
WSGI config for curation project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

from curation.scheduler import start_in_process_beat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings")

application = get_wsgi_application()

# With no broker nothing runs Celery beat: the process serving the site runs
# the scheduled publication itself (curation/scheduler.py, IN_PROCESS_BEAT).
start_in_process_beat()
