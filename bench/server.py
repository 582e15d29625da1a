"""What the load benchmarks share: a fresh database, gunicorn on loopback, a GET.

bench/pages.py, bench/api.py and bench/mixed.py each serve the product with
production settings (DEBUG off) from a database of their own, dropped and
created anew on every run.
"""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent


def fresh_database(name):
    """Drop and create database ``name`` next to DATABASE_URL's; returns its URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def environment(workdir, *, database, drop=(), **extra):
    """The process environment for a production-settings server over ``database``.

    ``drop`` names variables of ours not to pass on; ``extra`` adds settings.
    """
    dropped = {"DJANGO_SETTINGS_MODULE", *drop}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(
        DATABASE_URL=fresh_database(database),
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-not-secret",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="0",
        VAR_DIR=str(workdir),
        STATIC_ROOT=str(workdir / "static"),
        MEDIA_ROOT=str(workdir / "media"),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, headers=None):
    """One GET on loopback: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _popen_gunicorn(env, port, log):
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "curation.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--access-logfile",
            "/dev/null",
            "--log-level",
            "warning",
            "--max-requests",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def start_gunicorn(env, port):
    """gunicorn, 2 gthread workers × 4 threads, answering /healthz; else RuntimeError.

    Its log goes to a file in VAR_DIR: a pipe nobody reads fills up after some
    thousands of "Not Found" warnings and then blocks every worker writing to it.
    """
    log_path = Path(env["VAR_DIR"]) / f"gunicorn-{port}.log"
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        process = _popen_gunicorn(env, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn did not start: {log_path.read_text(errors='replace')[-2000:]}")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
