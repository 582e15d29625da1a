"""`make bench`: run every benchmark and print one table (also var/bench/report.json).

Each module listed in BENCHMARKS has ``run(report)``; it measures its figure
and the baseline in the same run and adds rows to the report. Run only some
with ``python -m bench harvest ranking``.
"""

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

import django

from bench.report import Report

# Module names under bench/, in the order they run.
BENCHMARKS = [
    "triage",
    "pages",
    "search",
    "harvest",
    "snapshot",
    "editorial",
    "ranking",
    "api",
    "mixed",
    "throttle",
    "restarts",
]


def main(argv):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings")
    # Benchmarks talk plain HTTP on loopback, also when DATABASE_URL makes DEBUG off.
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    django.setup()
    chosen = argv or BENCHMARKS
    report = Report()
    failures = []
    for name in chosen:
        print(f"== bench.{name}", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").run(report)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            failures.append(name)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    print()
    print(report.table())
    path = report.save(Path(os.environ.get("VAR_DIR", "var")) / "bench" / "report.json")
    print(f"\nwritten to {path}")
    if failures:
        print(f"benchmarks that crashed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
