"""The Celery app, configured from Django settings (``CELERY_*``)."""

import os

from celery import Celery

from curation.redelivery import RestoreUnackedStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings")

app = Celery("curation")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks of a killed worker come back within the visibility timeout + 5 s (curation/redelivery.py).
app.steps["consumer"].add(RestoreUnackedStep)
app.autodiscover_tasks()


@app.task(name="curation.ping")
def ping(value="pong"):
    """Health task: proves a worker consumes from the broker and answers."""
    return value
