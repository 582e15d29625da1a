"""gunicorn settings for the web process (docker-compose.yml's `web`).

Workers are forked from a master that has already imported Django and the
project (``preload_app``), so a worker that dies — killed, out of memory,
recycled by ``max_requests`` — is replaced in a fraction of a second
instead of the seconds a fresh import takes. Measured on the 2-core
development machine under load (3 workers, every worker SIGKILLed at once,
/healthz polled every 20 ms): 8–20 s without any answer before, 0.1–0.6 s
with preload and the URLconf loaded in the master (``when_ready``) (``python -m bench restarts``). The price: a code change needs
a restart of the master (a new container), not a HUP — which is how
upgrades are done anyway.
"""

import multiprocessing
import os

from django.urls import get_resolver

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
# Import the application once, in the master; workers are forks of it (see above).
# Django opens no connection at import, so no socket is shared between workers. Not
# when this process runs the in-process beat (no broker: the embedded mode): wsgi.py
# starts that thread at import, and a process running a thread must not fork.
# GUNICORN_PRELOAD=0/1 decides otherwise (python -m bench restarts measures both).
runs_in_process_beat = not os.environ.get("CELERY_BROKER_URL") and os.environ.get("IN_PROCESS_BEAT") != "off"
preload_app = os.environ.get("GUNICORN_PRELOAD", "0" if runs_in_process_beat else "1") != "0"
# The workers' heartbeat files on tmpfs: on a container's overlay filesystem a slow
# write can make the master think a busy worker hung (gunicorn's FAQ).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
# The request id (curation/logging.py) joins an access-log line to the app's log lines.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def when_ready(server):
    """With preload, also load the URLconf — every view module — in the master before forking.

    Django loads it on a process's first request; left to the workers, each new
    one would import the views before answering.
    """
    if server.cfg.preload_app:
        get_resolver().url_patterns  # noqa: B018 - the import is the point
