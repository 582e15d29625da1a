"""Editorial: what an editor waits for when saving, and the scheduler under two runners.

Runs in a child process on its own PostgreSQL database (curation_bench_editorial,
migrated on first use), so the project's database is never touched. Figures:

* saving a pick of the demo issue through ``update_pick`` (row locks, a
  revision, and re-rendering the whole issue's Markdown with its footnotes):
  p95 in ms, next to a bare ``Pick.save()`` of the same text (the baseline);
* scheduled publishing: N due issues published by two concurrent runners
  (``publish_due_issues`` with SKIP LOCKED): issues per second, and how many
  were published twice (target 0), next to one runner alone.

Size: BENCH_SCALE shrinks N (default 200 issues) and the number of saves (100).
"""

import json
import os
import statistics
import subprocess
import sys
import time

DATABASE = os.environ.get("EDITORIAL_BENCH_DB", "curation_bench_editorial")
PG = os.environ.get("EDITORIAL_BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def _scale(n):
    return max(2, int(n * float(os.environ.get("BENCH_SCALE", "1"))))


def run(report):
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE], capture_output=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DATABASE}",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
        "PUBLIC_PAGE_CACHE": "0",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env=env, check=True)
    out = subprocess.run(
        [sys.executable, "-c", "import bench.editorial as b; b.child()"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    report.add(
        "editorial",
        "save a pick (lock, revision, re-render issue) p95",
        figures["save_p95"],
        "ms",
        baseline=figures["bare_p95"],
        baseline_label="bare Pick.save() p95",
        target="< 150 ms",
        passed=figures["save_p95"] < 150,
    )
    report.add(
        "editorial",
        f"publish {figures['n']} due issues, two runners",
        figures["two_rate"],
        "issues/s",
        baseline=figures["one_rate"],
        baseline_label="one runner",
    )
    report.add(
        "editorial",
        "issues published twice by two runners",
        figures["duplicates"],
        "issues",
        target="0",
        passed=figures["duplicates"] == 0 and figures["missing"] == 0,
    )


def _p95(samples):
    return statistics.quantiles(samples, n=20)[-1] * 1000 if len(samples) > 1 else samples[0] * 1000


def child():
    import threading
    from datetime import timedelta

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "curation.settings")
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.utils import timezone

    from issues.demo.loader import load_demo
    from issues.editing import add_pick, save_issue, update_pick
    from issues.models import Issue, Pick
    from issues.publishing import publish_due_issues, schedule_issue

    issue, _ = load_demo()
    editor, _ = User.objects.get_or_create(username="bench-editor")
    editor.groups.add(Group.objects.get(name="Editors"))
    pick = issue.picks.get(position=5)
    original = pick.why
    saves, bare = [], []
    for n in range(_scale(100)):
        pick.refresh_from_db()
        started = time.perf_counter()
        update_pick(pick, by=editor, data={"why": f"{original}\n\nEdit {n}."}, lock_version=pick.lock_version)
        saves.append(time.perf_counter() - started)
        other = Pick.objects.get(pk=pick.pk)
        other.why = f"{original}\n\nBare {n}."
        started = time.perf_counter()
        other.save(update_fields=["why"])
        bare.append(time.perf_counter() - started)
    pick.refresh_from_db()
    update_pick(pick, by=editor, data={"why": original}, lock_version=pick.lock_version)

    paper = pick.paper
    n = _scale(200)

    def make_due(prefix):
        Issue.objects.filter(slug__startswith="bench-").delete()
        for i in range(n):
            due = save_issue(
                Issue(),
                by=editor,
                data={
                    "title": f"Bench {i}",
                    "slug": f"bench-{prefix}-{i}",
                    "period_start": "2021-03-01",
                    "period_end": "2021-03-31",
                },
                lock_version=0,
            )
            add_pick(due, paper, by=editor, why="Why.", key_insights="Insights.")
            schedule_issue(due, by=editor, publish_at=timezone.now() + timedelta(seconds=1))
        return timezone.now() + timedelta(minutes=1)

    now = make_due("one")
    started = time.perf_counter()
    publish_due_issues(now=now)
    one_rate = n / (time.perf_counter() - started)

    now = make_due("two")
    results = []
    barrier = threading.Barrier(2)

    def runner():
        barrier.wait()
        published, _ = publish_due_issues(now=now)
        results.append([i.pk for i in published])
        connection.close()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    two_rate = n / (time.perf_counter() - started)
    published = results[0] + results[1]
    Issue.objects.filter(slug__startswith="bench-").delete()
    print(
        json.dumps(
            {
                "save_p95": _p95(saves),
                "bare_p95": _p95(bare),
                "n": n,
                "one_rate": one_rate,
                "two_rate": two_rate,
                "duplicates": len(published) - len(set(published)),
                "missing": n - len(set(published)),
            }
        )
    )
