"""Bulk backfill from the metadata snapshot: same upsert rules, malformed lines counted, resumable."""

import gzip
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from papers import snapshot
from papers.models import HarvestRun, Paper

pytestmark = pytest.mark.django_db
SAMPLE = (
    Path(__file__).parent / "fixtures" / "kermitt2_arxiv_harvester__arxiv-metadata-oai-snapshot_sample.jsonl"
)


def _row(arxiv_id, categories="cs.LG", version=1, created="Mon, 2 Jun 2025 10:00:00 GMT", **extra):
    row = {
        "id": arxiv_id,
        "title": f"Title of {arxiv_id}",
        "abstract": "  An abstract. Code: https://github.com/x/y  ",
        "authors": "A. One, B. Two",
        "authors_parsed": [["One", "A.", ""], ["Two", "B.", ""]],
        "categories": categories,
        "comments": None,
        "journal-ref": None,
        "doi": None,
        "versions": [{"version": f"v{n}", "created": created} for n in range(1, version + 1)],
        "update_date": "2025-06-02",
    }
    row.update(extra)
    return json.dumps(row)


def test_the_real_sample_imports_with_authors_and_dates(tmp_path):
    run = snapshot.import_snapshot(SAMPLE)

    assert (run.status, run.created_count) == ("succeeded", 4)
    paper = Paper.objects.get(arxiv_id="0704.0001")
    assert paper.title.startswith("Calculation of prompt diphoton production")
    assert paper.submitted_at == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    assert paper.version == 2
    assert paper.ordered_authors()[0].name == "C. Balázs"  # LaTeX accent decoded
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert Paper.objects.filter(arxiv_id="quant-ph/0602109").exists()


def test_gzip_categories_since_and_malformed_lines(tmp_path):
    path = tmp_path / "snap.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(_row("2506.00001") + "\n")
        handle.write("{not json\n")
        handle.write(_row("2506.00002", categories="math.AG") + "\n")
        handle.write(_row("2001.00003", created="Mon, 6 Jan 2020 10:00:00 GMT") + "\n")
        handle.write(json.dumps({"id": "garbage"}) + "\n")
        handle.write(_row("2506.00004", categories="cs.CL cs.LG") + "\n")

    run = snapshot.import_snapshot(path, categories=["cs.LG"], since=datetime(2025, 1, 1))

    assert run.status == "partial"
    assert run.error.startswith("2 malformed line(s) skipped: line 2:")
    assert "line 5" in run.error
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == {"2506.00001", "2506.00004"}
    assert Paper.objects.get(arxiv_id="2506.00001").code_url == "https://github.com/x/y"


def test_same_rules_as_a_harvest_unchanged_and_new_versions(tmp_path):
    path = tmp_path / "snap.jsonl"
    path.write_text(_row("2506.00001") + "\n" + _row("2506.00002") + "\n")
    snapshot.import_snapshot(path)
    Paper.objects.filter(arxiv_id="2506.00001").update(
        code_url="https://gitlab.com/ed/it", links_set_by_editor=True
    )

    path.write_text(_row("2506.00001", version=2, title="New") + "\n" + _row("2506.00002") + "\n")
    run = snapshot.import_snapshot(path)

    assert (run.updated_count, run.unchanged_count, run.created_count) == (1, 1, 0)
    paper = Paper.objects.get(arxiv_id="2506.00001")
    assert (paper.version, paper.title, paper.code_url) == (2, "New", "https://gitlab.com/ed/it")


def test_an_interrupted_import_resumes_after_its_last_batch(tmp_path, monkeypatch):
    path = tmp_path / "snap.jsonl"
    path.write_text("".join(_row(f"2506.{n:05d}") + "\n" for n in range(1, 8)))
    real = snapshot.import_entries
    calls = {"n": 0}

    def crash_on_second_batch(records):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk went away")
        return real(records)

    monkeypatch.setattr(snapshot, "import_entries", crash_on_second_batch)
    first = snapshot.import_snapshot(path, batch_size=3)
    assert first.status == "failed" and "Rerun the same command to resume" in first.error
    assert (first.resume_line, Paper.objects.count()) == (3, 3)

    monkeypatch.setattr(snapshot, "import_entries", real)
    second = snapshot.import_snapshot(path, batch_size=3)

    assert (second.status, second.created_count, second.fetched) == ("succeeded", 4, 4)
    assert Paper.objects.count() == 7


def test_the_command_shows_progress_and_the_summary(tmp_path, capsys):
    path = tmp_path / "snap.jsonl"
    shutil.copy(SAMPLE, path)
    call_command("import_arxiv_snapshot", str(path), "--batch-size", "2")
    out = capsys.readouterr().out
    assert "records/s" in out and "ETA" in out
    assert "created 4" in out
    assert HarvestRun.objects.get(kind="snapshot").status == "succeeded"
