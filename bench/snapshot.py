"""Snapshot import figure (PostgreSQL): 200,000 records from a gzip JSON-lines snapshot.

Ours: ``import_snapshot`` reading, decompressing and parsing the file and
upserting in batches into an empty papers table. Baseline: a plain COPY of the
same rows, already parsed, into the empty twin table. Target ≥ 0.5× its rate.
BENCH_SCALE shrinks the size while developing.
"""

import gzip
import json
import os
import time
from email.utils import format_datetime
from pathlib import Path

from bench import pgdb
from bench.harvest import sample_entries
from papers.fake_arxiv.server import normalize_entry
from papers.snapshot import import_snapshot, record_from_snapshot


def write_snapshot(path, count):
    """``count`` snapshot lines (the public snapshot's format) from the sample month under new ids."""
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as handle:
        for raw in sample_entries(count, days=30):
            entry = normalize_entry(raw)
            names = [name for name, _ in entry["authors"]]
            handle.write(
                json.dumps(
                    {
                        "id": entry["arxiv_id"],
                        "submitter": names[0] if names else "",
                        "authors": ", ".join(names),
                        "title": entry["title"],
                        "comments": None,
                        "journal-ref": None,
                        "doi": None,
                        "report-no": None,
                        "categories": " ".join(entry["categories"]),
                        "license": None,
                        "abstract": entry["abstract"],
                        "versions": [
                            {"version": "v1", "created": format_datetime(entry["published"], usegmt=True)}
                        ],
                        "update_date": entry["published"].date().isoformat(),
                        "authors_parsed": [
                            [*reversed(n.rsplit(" ", 1)), ""] if " " in n else [n, "", ""] for n in names
                        ],
                    }
                )
                + "\n"
            )


def run(report):
    pgdb.use_bench_database()
    pgdb.create_twin()
    n = pgdb.scale(200_000)
    path = Path(os.environ.get("VAR_DIR", "var")) / "bench" / f"snapshot-{n}.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        write_snapshot(path, n)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        records = [record_from_snapshot(json.loads(line)) for line in handle]

    pgdb.truncate_twin()
    started = time.perf_counter()
    pgdb.copy_into_twin(records)
    copy_rate = n / (time.perf_counter() - started)

    pgdb.reset_papers()
    started = time.perf_counter()
    run = import_snapshot(path, restart=True, batch_size=5000)
    ours = run.created_count / (time.perf_counter() - started)
    assert run.status == "succeeded", run.error
    report.add(
        "snapshot",
        f"import {n:,} snapshot records",
        ours,
        "records/s",
        baseline=copy_rate,
        baseline_label="COPY into twin",
        target="≥ 0.5×",
        passed=ours >= 0.5 * copy_rate,
    )
