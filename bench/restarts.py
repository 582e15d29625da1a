"""Every gunicorn worker killed at once: how long the site stays silent.

gunicorn as docker-compose.yml runs it (``-c gunicorn.conf.py``, sync
workers, here 3 of them), production settings with a broker, PostgreSQL. Each round sends
SIGKILL to every worker (an out-of-memory kill, a crash) while /healthz is
polled every 20 ms; the figure is the longest time from the kill to the
first answer, over three rounds. The master replaces dead workers at once;
what takes time is a new worker importing Django and the project, which
``preload_app`` (gunicorn.conf.py) does once in the master so that workers
are ready as soon as they are forked. Baseline: the same without preload
(GUNICORN_PRELOAD=0), which gave about 15 s of silence on a busy machine.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.server import ROOT, environment, free_port, get, manage

GROUP = "Restarts"
BENCH_DB = "curation_bench_restarts"
ROUNDS = 3
WORKERS = 3


def _workers(master):
    """The pids of ``master``'s children: its workers."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def _answers(port):
    try:
        return get(port, "/healthz")[0] == 200
    except OSError:
        return False


def _longest_silence(env, port, log):
    """Seconds from killing every worker to the next answer, the longest of ROUNDS."""
    master = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "curation.wsgi:application",
            "-c",
            "gunicorn.conf.py",
        ],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(WORKERS)},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 60
        while not (_answers(port) and len(_workers(master.pid)) == WORKERS):
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        silences = []
        for _ in range(ROUNDS):
            time.sleep(3)  # every worker booted and idle
            for pid in _workers(master.pid):
                os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            while not _answers(port):
                if time.monotonic() - killed > 60:
                    raise RuntimeError("no answer within 60 s of the kill")
                time.sleep(0.02)
            silences.append(time.monotonic() - killed)
        return max(silences)
    finally:
        master.terminate()
        master.wait(timeout=30)


def run(report):
    with tempfile.TemporaryDirectory(prefix="bench-restarts-") as tmp:
        env = environment(
            Path(tmp),
            database=BENCH_DB,
            GUNICORN_ACCESSLOG="/dev/null",
            # As in production: a broker named (nothing is enqueued here), so no in-process beat.
            CELERY_BROKER_URL=os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0",
        )
        manage(env, "migrate", "--noinput")
        port = free_port()
        with open(Path(tmp) / "gunicorn.log", "ab") as log:
            preloaded = _longest_silence(env, port, log)
            baseline = _longest_silence({**env, "GUNICORN_PRELOAD": "0"}, port, log)
        report.add(
            GROUP,
            f"silence after SIGKILL of all {WORKERS} workers (longest of {ROUNDS})",
            preloaded,
            "s",
            baseline=baseline,
            baseline_label="the same without preload_app",
            target="≤ 2 s",
            passed=preloaded <= 2.0,
        )
