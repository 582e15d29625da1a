"""Enqueue a Celery task, or say plainly that the queue is down.

Admin actions and API views that start background work call ``enqueue``
after their own changes are committed; if Redis (the broker) cannot be
reached within a few seconds they get ``QueueUnavailable`` with a message
for the user instead of a hung request or a 500. Nothing is lost: what the
user asked for is either queued or reported as not queued.
"""

import logging

from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)

# Give up after about two seconds: a person is waiting for the page.
RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}


class QueueUnavailable(Exception):
    """The broker did not take the task; the message is for the user."""


def enqueue(task, *args, **kwargs):
    """``task.apply_async(args, kwargs)``; raises QueueUnavailable if the broker is down."""
    try:
        return task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=RETRY_POLICY)
    except OperationalError as error:
        log.error("could not enqueue %s: %s", task.name, error)
        raise QueueUnavailable(
            "The task queue is not reachable right now, so nothing was started. "
            "Your changes are saved; try again in a minute."
        ) from error
