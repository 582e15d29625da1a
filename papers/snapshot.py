"""Bulk backfill from arXiv's public metadata snapshot (JSON lines, plain or gzip).

Streams the file, keeps the records matching ``categories``/``since``, and
upserts them in batches through the same ``import_entries`` rules as a
harvest. Each batch is committed with the run's counters and the number of
lines done, so an interrupted import resumes after its last committed batch.
A malformed line is counted and reported, never fatal.
"""

import gzip
import io
import json
import re
import time
import unicodedata
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .arxiv_ids import parse_arxiv_id
from .ingest import PaperRecord, import_entries
from .links import detect_links
from .models import HarvestRun

Status = HarvestRun.Status
# Malformed lines named in the run's error, at most.
_MAX_REPORTED = 20

# LaTeX accents in author names (C. Bal\'azs) → Unicode combining marks.
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    '"': "\u0308",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
}
_ACCENT = re.compile(r"\{?\\([`'\"^~=.])\s*\{?([A-Za-z])\}?\}?|\{?\\([cvuHkr])\s*\{([A-Za-z])\}\}?")


def _delatex(text):
    if "\\" not in text:
        return text

    def repl(match):
        accent = match.group(1) or match.group(3)
        letter = match.group(2) or match.group(4)
        return unicodedata.normalize("NFC", letter + _ACCENTS[accent])

    return _ACCENT.sub(repl, text).replace("{", "").replace("}", "")


def _authors(row):
    parsed = row.get("authors_parsed")
    if parsed:
        names = []
        for parts in parsed:
            last, first, suffix = (list(parts) + ["", "", ""])[:3]
            names.append(" ".join(p for p in (first, last, suffix) if p))
    else:
        names = [n.strip() for n in re.split(r",| and ", row.get("authors") or "") if n.strip()]
    return [(_delatex(name), "") for name in names]


def _created(text):
    return parsedate_to_datetime(text).astimezone(UTC)


def record_from_snapshot(row):
    """A PaperRecord from one snapshot object; ValueError/KeyError when it is unusable."""
    arxiv_id = parse_arxiv_id(row["id"]).id
    versions = row.get("versions") or []
    if not versions:
        raise ValueError(f"{arxiv_id}: no versions")
    categories = (row.get("categories") or "").split()
    if not categories:
        raise ValueError(f"{arxiv_id}: no categories")
    abstract = " ".join((row.get("abstract") or "").split())
    comment = " ".join((row.get("comments") or "").split())
    code_url, project_url = detect_links(abstract, comment)
    last = versions[-1]
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=int(str(last.get("version", "v1")).lstrip("v") or 1),
        title=" ".join((row.get("title") or "").split()),
        abstract=abstract,
        authors=_authors(row),
        primary_category=categories[0],
        categories=categories,
        submitted_at=_created(versions[0]["created"]),
        updated_at=_created(last["created"]),
        comment=comment,
        journal_ref=" ".join((row.get("journal-ref") or "").split()),
        doi=(row.get("doi") or "").split()[0] if row.get("doi") else "",
        code_url=code_url,
        project_url=project_url,
    )


def _open(path):
    """(binary file for the position, text lines): gzip or plain, told apart by the magic bytes."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if raw.peek(2)[:2] == b"\x1f\x8b":
        return raw, gzip.open(raw, "rt", encoding="utf-8")
    return raw, io.TextIOWrapper(raw, encoding="utf-8")


def _wanted(record, categories, since):
    if categories and not categories.intersection(record.categories):
        return False
    if since and record.updated_at.date() < since:
        return False
    return True


def import_snapshot(path, *, categories=None, since=None, batch_size=5000, restart=False, progress=None):
    """Import the snapshot at ``path``; returns the HarvestRun (kind "snapshot").

    Resumes after the last committed line of an unfinished run of the same
    file unless ``restart``. ``progress(run, lines, size_done, size_total, elapsed)``
    is called after every batch.
    """
    path = Path(path)
    cats = {c.strip() for c in (categories or []) if c.strip()}
    if isinstance(since, datetime):
        since = since.date()
    query = (
        f"snapshot {path.name}"
        + (f" categories {','.join(sorted(cats))}" if cats else "")
        + (f" since {since}" if since else "")
    )
    previous = None
    if not restart:
        previous = (
            HarvestRun.objects.filter(kind="snapshot", query=query)
            .filter(status__in=[Status.FAILED, Status.RUNNING])
            .order_by("-started_at")
            .first()
        )
    skip_lines = previous.resume_line if previous else 0
    run = HarvestRun.objects.create(kind="snapshot", query=query, resume_line=skip_lines)
    if not path.exists():
        run.status, run.error, run.finished_at = Status.FAILED, f"No such file: {path}", timezone.now()
        run.save()
        return run

    bad, bad_count, line_no = [], 0, 0
    batch, batch_lines = [], 0
    size_total = path.stat().st_size
    started = time.monotonic()
    raw, handle = _open(path)

    def commit():
        nonlocal batch
        with transaction.atomic():
            result = import_entries(batch) if batch else None
            HarvestRun.objects.filter(pk=run.pk).update(
                pages=F("pages") + 1,
                fetched=F("fetched") + len(batch),
                created_count=F("created_count") + (len(result.created) if result else 0),
                updated_count=F("updated_count") + (len(result.updated) if result else 0),
                unchanged_count=F("unchanged_count") + (len(result.unchanged) if result else 0),
                resume_line=line_no,
            )
        batch = []
        if progress:
            run.refresh_from_db()
            progress(run, line_no, raw.tell(), size_total, time.monotonic() - started)

    try:
        with raw, handle:
            for line_no, line in enumerate(handle, start=1):  # noqa: B007 - line_no is read by commit()
                if line_no <= skip_lines or not line.strip():
                    continue
                try:
                    record = record_from_snapshot(json.loads(line))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    bad_count += 1
                    if len(bad) < _MAX_REPORTED:
                        bad.append(f"line {line_no}: {str(exc)[:120]}")
                    continue
                if _wanted(record, cats, since):
                    batch.append(record)
                batch_lines += 1
                if len(batch) >= batch_size or batch_lines >= batch_size * 20:
                    commit()
                    batch_lines = 0
            commit()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        run.refresh_from_db()
        run.status, run.finished_at = Status.FAILED, timezone.now()
        run.error = f"Stopped at line {line_no}: {exc}. Rerun the same command to resume."
        run.save(update_fields=["status", "error", "finished_at"])
        return run
    run.refresh_from_db()
    run.status = Status.PARTIAL if bad_count else Status.SUCCEEDED
    if bad_count:
        run.error = f"{bad_count} malformed line(s) skipped: " + "; ".join(bad)
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    if previous is not None and previous.status == Status.RUNNING:
        # It died mid-way (we resumed from it): say so instead of leaving it "running".
        HarvestRun.objects.filter(pk=previous.pk).update(
            status=Status.FAILED, error=f"Interrupted; resumed by run #{run.pk}.", finished_at=timezone.now()
        )
    return run


def parse_since(text):
    return date.fromisoformat(text) if text else None
