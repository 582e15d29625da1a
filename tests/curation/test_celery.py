"""The Celery wiring, proved with a real worker consuming from the real broker."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from curation.celery import app, ping

ROOT = Path(__file__).resolve().parents[2]


def test_settings_configure_the_app():
    assert app.conf.task_serializer == "json"
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit
    assert app.conf.task_routes["papers.tasks.harvest_source"] == {"queue": "arxiv"}


def test_tasks_run_in_process_only_without_a_broker(settings):
    assert app.conf.task_always_eager is (not settings.CELERY_BROKER_URL)
    if not settings.CELERY_BROKER_URL:
        assert ping.delay("hello").get() == "hello"


@pytest.mark.broker
def test_round_trip_through_the_real_broker():
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "curation",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--loglevel",
            "warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        result = ping.apply_async(args=["through redis"], queue=queue)
        assert result.get(timeout=60) == "through redis"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
