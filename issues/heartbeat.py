"""The scheduler's heartbeat: when scheduled issues were last looked for, and whether that is recent.

Scheduled issues go out only if something calls ``publish_due_issues`` every
minute: Celery beat in production, the in-process beat of the embedded mode
(curation/scheduler.py). Nothing fails loudly when neither runs, so every run
records itself here and the admin warns when the last run is older than
``SCHEDULER_STALE_AFTER`` seconds.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

from .models import SchedulerHeartbeat

JOB = "publish-due-issues"


def record_scheduler_run(*, published, failed, at=None):
    """Write this run's heartbeat: one upsert, so two runners at once both succeed."""
    SchedulerHeartbeat.objects.bulk_create(
        [SchedulerHeartbeat(job=JOB, last_run_at=at or timezone.now(), published=published, failed=failed)],
        update_conflicts=True,
        unique_fields=["job"],
        update_fields=["last_run_at", "published", "failed"],
    )


def _ago(then, now):
    return "less than a minute ago" if now - then < timedelta(minutes=1) else f"{timesince(then, now)} ago"


@dataclass
class SchedulerStatus:
    last_run_at: object  # datetime or None
    stale: bool
    message: str


def scheduler_status(now=None):
    """When the scheduler last ran, and a plain-words message (a warning when it is stale)."""
    now = now or timezone.now()
    beat = SchedulerHeartbeat.objects.filter(job=JOB).first()
    how_to_start = (
        "Start it: `make run` runs it inside the web process; with a broker, run `celery -A curation beat` "
        "and a worker."
    )
    if beat is None:
        return SchedulerStatus(
            None,
            True,
            "The scheduler has never run: scheduled issues will not go out by themselves. " + how_to_start,
        )
    when = timezone.localtime(beat.last_run_at)
    stamp = f"{when.day} {when:%B %Y, %H:%M:%S} {when.tzname()}"
    if now - beat.last_run_at > timedelta(seconds=settings.SCHEDULER_STALE_AFTER):
        return SchedulerStatus(
            beat.last_run_at,
            True,
            f"The scheduler has not run since {stamp} ({_ago(beat.last_run_at, now)}): "
            "scheduled issues will not go out until it runs again. " + how_to_start,
        )
    return SchedulerStatus(
        beat.last_run_at,
        False,
        f"The scheduler last ran {_ago(beat.last_run_at, now)} ({stamp}); "
        "scheduled issues go out within a minute of their time.",
    )
