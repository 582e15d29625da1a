"""An in-process beat for the embedded mode, where nothing runs Celery beat.

Without a broker there is no beat process, so a scheduled issue would never
go out. Instead the process that serves the site (runserver's serving
process or a gunicorn worker: curation/wsgi.py starts it, so tests, management
commands and Celery workers never do) runs the ``CELERY_BEAT_SCHEDULE``
entries named in ``IN_PROCESS_BEAT`` in a daemon thread, at their intervals,
starting at once. Each entry runs its task locally (``Task.apply``), exactly
what beat plus a worker would do. Running it in several processes at once is
harmless: the tasks are idempotent (scheduled publication locks each issue).
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.utils.module_loading import autodiscover_modules

from .celery import app

log = logging.getLogger(__name__)
_lock = threading.Lock()
_running = None


def _seconds(schedule):
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, (int, float)):
        return float(schedule)
    # A celery.schedules.schedule has run_every; a crontab has no fixed period.
    run_every = getattr(schedule, "run_every", None)
    if run_every is None:
        raise ImproperlyConfigured(f"IN_PROCESS_BEAT runs fixed intervals only, not {schedule!r}.")
    return run_every.total_seconds()


def beat_entries(names):
    """{entry name: (task name, interval in seconds)} for the named CELERY_BEAT_SCHEDULE entries."""
    entries = {}
    for name in names:
        entry = settings.CELERY_BEAT_SCHEDULE.get(name)
        if entry is None:
            raise ImproperlyConfigured(f"IN_PROCESS_BEAT names {name!r}, which CELERY_BEAT_SCHEDULE lacks.")
        entries[name] = (entry["task"], _seconds(entry["schedule"]))
    return entries


class InProcessBeat(threading.Thread):
    """Runs each entry's task at once, then every interval, until ``stop()``."""

    def __init__(self, entries):
        super().__init__(name="in-process-beat", daemon=True)
        self.entries = entries
        self._stop_event = threading.Event()

    def run(self):
        # The task modules: Celery's autodiscovery is lazy until a worker starts.
        autodiscover_modules("tasks")
        due = dict.fromkeys(self.entries, time.monotonic())
        while not self._stop_event.is_set():
            for name, (task, every) in self.entries.items():
                if time.monotonic() >= due[name]:
                    due[name] = time.monotonic() + every
                    self.run_entry(name, task)
            self._stop_event.wait(max(0.0, min(due.values()) - time.monotonic()))

    def run_entry(self, name, task):
        try:
            app.tasks[task].apply(throw=True)
        except Exception:
            # A locked SQLite file, a database restart: logged, and the next tick tries again.
            log.exception("In-process beat: %s failed", name)
        finally:
            # This thread's connections, not the request threads'.
            connections.close_all()

    def stop(self):
        self._stop_event.set()


def start_in_process_beat():
    """Start the beat thread once per process when ``IN_PROCESS_BEAT`` names entries; returns it (or None)."""
    global _running
    if not settings.IN_PROCESS_BEAT:
        return None
    with _lock:
        if _running is None or not _running.is_alive():
            _running = InProcessBeat(beat_entries(settings.IN_PROCESS_BEAT))
            _running.start()
            log.info("In-process beat started: %s", ", ".join(settings.IN_PROCESS_BEAT))
        return _running
