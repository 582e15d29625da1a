"""Limits that hold under concurrency, against gunicorn behind a (pretend) proxy.

gunicorn (2 gthread workers × 4 threads, production settings with DEBUG off,
PostgreSQL, the counters in Redis) with ``TRUSTED_PROXY_COUNT=1``, as behind
the proxy of docker-compose.yml. Two figures:

- **Anonymous API rate.** 64 concurrent clients request ``/api/v1/issues/``
  for 60 s (``BENCH_SCALE`` shortens it); each sends a forged
  X-Forwarded-For in front of the address the proxy appends, so they are one
  client to the limit whatever they forge. Answers 200 / (rate × duration);
  target ≤ 1.1×. DRF's own throttle let through 3.2× under 8 connections, and
  every forged address was a new client.
- **Login burst.** 40 wrong passwords for one account, sent at once from 40
  addresses: how many reached the password check (the answer says "Please
  enter the correct username and password") rather than the lock (its
  message). Target ≤ LOGIN_FAILURE_LIMIT_PER_ACCOUNT (5).
"""

import http.client
import os
import random
import re
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import redis

from bench.server import environment, free_port, manage, start_gunicorn, stop

GROUP = "Limits"
BENCH_DB = "curation_bench_throttle"
REDIS_URL = os.environ.get("BENCH_THROTTLE_REDIS_URL", "redis://127.0.0.1:6379/11")
CLIENTS = 64
RATE_PER_MINUTE = 120
PROXY_SAW = "203.0.113.10"  # the address our proxy appends: the one client behind the forgeries
BURST = 40
ACCOUNT_LIMIT = 5
USERNAME, PASSWORD = "bench-editor", "bench-password-1234"


def seconds():
    """The window itself (60 s) unless BENCH_SCALE shortens it: one window's allowance is the bound."""
    return min(60.0, max(10.0, 60.0 * float(os.environ.get("BENCH_SCALE", "1"))))


def _forged():
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


def _api_load(port, duration):
    """(answers 200, answers 429, others) from CLIENTS keep-alive clients for ``duration`` s."""
    counts = {"ok": 0, "throttled": 0, "other": 0}
    lock = threading.Lock()
    stop_at = [0.0]
    # The clock starts when the last client is ready, before any is released.
    start = threading.Barrier(CLIENTS, action=lambda: stop_at.__setitem__(0, time.monotonic() + duration))

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        while time.monotonic() < stop_at[0]:
            headers = {"X-Forwarded-For": f"{_forged()}, {PROXY_SAW}"}
            try:
                connection.request("GET", "/api/v1/issues/", headers=headers)
                response = connection.getresponse()
                response.read()
                kind = {200: "ok", 429: "throttled"}.get(response.status, "other")
            except OSError:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                kind = "other"
            with lock:
                counts[kind] += 1
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def _login_form(port, address):
    """A session's CSRF cookie and token from the login page, as a browser gets them."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/admin/login/", headers={"X-Forwarded-For": address})
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    cookie = SimpleCookie(response.getheader("Set-Cookie"))["csrftoken"].value
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return cookie, token


def _login_burst(port):
    """(wrong-password answers, lock answers, others) of BURST simultaneous guesses."""
    forms = [(f"198.51.100.{n + 1}", *_login_form(port, f"198.51.100.{n + 1}")) for n in range(BURST)]
    answers = []
    start = threading.Barrier(BURST)

    def guess(n):
        address, cookie, token = forms[n]
        body = urlencode(
            {"csrfmiddlewaretoken": token, "username": USERNAME, "password": f"guess-{n}", "next": "/admin/"}
        )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.putrequest("POST", "/admin/login/")
        for name, value in {
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(body)),
            "Cookie": f"csrftoken={cookie}",
            "X-Forwarded-For": address,
        }.items():
            connection.putheader(name, value)
        start.wait()
        connection.endheaders(body.encode())
        page = connection.getresponse().read().decode()
        connection.close()
        if "Please enter the correct username and password" in page:
            answers.append("checked")
        elif "Too many failed sign-in attempts" in page:
            answers.append("locked")
        else:
            answers.append("other")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers.count("checked"), answers.count("locked"), answers.count("other")


def run(report):
    with tempfile.TemporaryDirectory(prefix="bench-throttle-") as tmp:
        env = environment(
            Path(tmp),
            database=BENCH_DB,
            drop={"CELERY_BROKER_URL"},
            REDIS_URL=REDIS_URL,
            TRUSTED_PROXY_COUNT="1",
            API_THROTTLE_ANON=f"{RATE_PER_MINUTE}/minute",
            LOGIN_FAILURE_LIMIT_PER_ACCOUNT=str(ACCOUNT_LIMIT),
        )
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")  # the login page's static files, DEBUG off
        create = (
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r}, is_staff=True)"
        )
        manage(env, "shell", "-c", create)
        # Counters of earlier runs would count against this one.
        redis.Redis.from_url(REDIS_URL).flushdb()
        port = free_port()
        server = start_gunicorn(env, port)
        try:
            duration = seconds()
            counts = _api_load(port, duration)
            allowed = RATE_PER_MINUTE  # in any 60 s, and so in this run
            total = sum(counts.values())
            report.add(
                GROUP,
                f"anonymous API answers 200, {CLIENTS} clients × {duration:.0f} s, forged X-Forwarded-For",
                counts["ok"] / allowed,
                "× the rate",
                baseline=1.0,
                baseline_label=f"{RATE_PER_MINUTE}/minute",
                target="≤ 1.1×",
                passed=counts["ok"] <= 1.1 * allowed and counts["other"] == 0,
                note=f"{counts['ok']} × 200, {counts['throttled']} × 429, {counts['other']} other "
                f"of {total} ({total / duration:.0f} req/s)",
            )
            checked, locked, other = _login_burst(port)
            report.add(
                GROUP,
                f"login burst of {BURST} wrong passwords: real password checks",
                checked,
                "checks",
                baseline=ACCOUNT_LIMIT,
                baseline_label="LOGIN_FAILURE_LIMIT_PER_ACCOUNT",
                target=f"≤ {ACCOUNT_LIMIT}",
                passed=checked <= ACCOUNT_LIMIT and other == 0,
                note=f"{locked} refused by the lock, {other} other",
            )
        finally:
            stop(server)
