"""Redeliver the tasks of a worker that died, within the visibility timeout plus a few seconds.

With late acks a task stays "unacked" in Redis until it finishes; if its
whole worker is killed, another worker must put it back on its queue once
the visibility timeout has passed. kombu's Redis transport checks for such
tasks only on every tenth 10-second tick (about every 100 s), so a replaced
worker would wait far longer than the timeout. This consumer step checks
every RESTORE_EVERY seconds instead.
"""

import logging

from celery import bootsteps

log = logging.getLogger(__name__)

RESTORE_EVERY = 5.0


class RestoreUnackedStep(bootsteps.StartStopStep):
    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        self.timer_entry = None

    def start(self, consumer):
        if not consumer.app.conf.broker_url.startswith(("redis://", "rediss://")):
            return
        visibility = consumer.app.conf.broker_transport_options.get("visibility_timeout", 3600)
        period = max(1.0, min(RESTORE_EVERY, visibility / 2))
        self.timer_entry = consumer.timer.call_repeatedly(period, self.restore, (consumer,), priority=10)

    def stop(self, consumer):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    shutdown = stop

    def restore(self, consumer):
        try:
            channel = consumer.connection.default_channel
            # interval=1: act on every call (kombu's default acts on every tenth).
            channel.qos.restore_visible(num=channel.unacked_restore_limit, interval=1)
        except Exception as error:  # noqa: BLE001 - the broker may be away; try again next tick
            log.warning("could not check for tasks of dead workers: %s", error)
