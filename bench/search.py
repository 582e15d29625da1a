"""The cached issue page while /search/ is flooded: target ≥ 0.5× its quiet throughput.

gunicorn (2 gthread workers × 4 threads, production settings with DEBUG off,
the Redis cache) serves the demo from a dedicated PostgreSQL database,
``curation_bench_search``. The readers are CONNECTIONS (8) wrk connections on
the cached issue page, as in bench/pages.py; the flood is FLOOD (16) more wrk
connections on /search/, each request a different query (a cache would not
help) and every one from 127.0.0.1, as one abusive client. Quiet and flooded
runs alternate, ROUNDS of each, the median of each kept (BENCH_SCALE shortens).

A fair server gives every connection its turn, so 16 flooding connections
next to 8 readers take about two thirds of the turns whatever they ask for;
the ceiling is measured too: the same flood reading the issue page itself.
What the product controls is what a flood's turn costs. Three servers: the
product as configured (SEARCH_RATE_PER_MINUTE searches per client address,
SEARCH_CONCURRENCY searches at once in the deployment, both refused in the
first middleware); the same with the rate limit off, which is what a flood
from many addresses meets; and neither guard, the baseline: search as it was.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.pages import CONNECTIONS, _load, seconds
from bench.server import environment, free_port, get, manage, start_gunicorn, stop

BENCH_DB = "curation_bench_search"
REDIS_URL = os.environ.get("BENCH_SEARCH_REDIS_URL", "redis://127.0.0.1:6379/13")
ISSUE_PATH = "/issues/april-2021/"
FLOOD = 16
ROUNDS = 5
GROUP = "search flood"
# Every flood request searches something new: words from the demo and a number.
FLOOD_SCRIPT = """
local words = {"transformer", "language", "vision", "diffusion", "graph", "attention", "model"}
request = function()
  local q = words[math.random(#words)] .. "+" .. words[math.random(#words)] .. "+-x" .. math.random(1000000)
  return wrk.format("GET", "/search/?q=" .. q)
end
"""
SERVERS = {
    "guarded": {},
    "rate limit off": {"SEARCH_RATE_PER_MINUTE": "0"},
    "unguarded": {"SEARCH_RATE_PER_MINUTE": "0", "SEARCH_CONCURRENCY": "1000"},
}


def _flood(port, duration, script):
    """wrk flooding in the background (``script`` picks the requests, else the issue page itself)."""
    target = (
        ["-s", str(script), f"http://127.0.0.1:{port}/"]
        if script
        else [f"http://127.0.0.1:{port}{ISSUE_PATH}"]
    )
    return subprocess.Popen(
        ["wrk", "-t2", f"-c{FLOOD}", f"-d{max(1, round(duration))}s", "--timeout", "10s", *target],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _flood_summary(output):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = re.search(r"(\d+) requests in", output)
    return (
        float(rps.group(1)) if rps else 0.0,
        int(refused.group(1)) if refused else 0,
        int(total.group(1)) if total else 0,
    )


def _measure(port, script):
    """Median quiet figures, median flooded figures, and the flood's summary, over ROUNDS pairs.

    Quiet and flooded runs alternate and medians are kept: the machine is shared, and a
    burst of someone else's work should not decide a ratio.
    """
    duration = max(2.0, seconds() / 3)
    quiet, flooded, floods = [], [], []
    for _ in range(ROUNDS):
        quiet.append(_load(port, ISSUE_PATH, duration=duration))
        flood = _flood(port, duration + 2, script)
        time.sleep(1)  # let the flood fill every worker thread first
        flooded.append(_load(port, ISSUE_PATH, duration=duration))
        output, _ = flood.communicate(timeout=duration + 60)
        floods.append(_flood_summary(output))
        time.sleep(1)  # the flood's last requests drain

    def median(runs):
        return sorted(runs, key=lambda figures: figures[0])[len(runs) // 2]

    return median(quiet), median(flooded), median(floods)


def run(report):
    if not shutil.which("wrk"):
        print("   wrk not found (apt-get install wrk): the search flood needs it; skipped", flush=True)
        return
    subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], capture_output=True)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        workdir = Path(tmp)
        env = environment(
            workdir,
            database=BENCH_DB,
            drop={"CELERY_BROKER_URL", "PUBLIC_PAGE_CACHE", *(name for s in SERVERS.values() for name in s)},
            REDIS_URL=REDIS_URL,
        )
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        manage(env, "collectstatic", "--noinput")
        script = workdir / "flood.lua"
        script.write_text(FLOOD_SCRIPT)
        results = {}
        for name, extra in SERVERS.items():
            port = free_port()
            server = start_gunicorn({**env, **extra}, port)
            try:
                assert get(port, ISSUE_PATH)[0] == 200
                assert get(port, "/search/?q=transformer")[0] == 200
                _load(port, ISSUE_PATH, duration=1)  # warm up
                results[name] = _measure(port, script)
                if name == "guarded":
                    # The ceiling any fair server gives: 16 more readers of the page itself.
                    same_cost = _measure(port, None)
            finally:
                stop(server)
            subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], capture_output=True)

    report.add(GROUP, "machine load average (1 min) at the end", os.getloadavg()[0], "runnable")
    quiet = results["guarded"][0]
    report.add(GROUP, f"cached issue page, quiet ({CONNECTIONS} connections)", quiet[0], "req/s")
    report.add(
        GROUP,
        f"cached issue page, {FLOOD} more connections reading it too (the fair-share ceiling)",
        same_cost[1][0],
        "req/s",
        baseline=same_cost[0][0],
        baseline_label="quiet, same server",
        note=f"the other readers: {same_cost[2][0]:,.0f} req/s",
    )
    for name, (server_quiet, flooded, (flood_rps, refused, total)) in results.items():
        share = f"{refused / total:.0%} of them refused" if total else "no flood figures"
        report.add(
            GROUP,
            f"cached issue page, /search/ flooded by {FLOOD} connections ({name})",
            flooded[0],
            "req/s",
            baseline=server_quiet[0],
            baseline_label=f"quiet, same server ({name})",
            target="≥ 0.5× quiet" if name != "unguarded" else "",
            passed=flooded[0] >= 0.5 * server_quiet[0] if name != "unguarded" else None,
            note=f"p99 {flooded[2]:.1f} ms; the flood: {flood_rps:,.0f} searches/s, {share}",
        )
