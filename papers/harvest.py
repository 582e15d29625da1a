"""Harvesting arXiv: the one function that runs a harvest, and adding papers by id.

A run covers whole UTC days: for each day it asks arXiv for the papers
submitted that day in any of the source's categories, oldest first, page by
page. Every page is committed with the run's counters in one transaction, so
a crash loses at most the page in flight and the admin sees counts grow.
The source's high-water mark advances day by day, only after a day's pages
are all committed and only while every earlier day of the run was complete:
a weekday whose first page stayed empty is *unknown* (arXiv hiccup or
holiday), the run ends *partial* and the next run starts again from there.

Every run ends as succeeded, partial, failed or skipped. A running run beats
(``heartbeat_at``) on every page and retry; a run whose worker died stops
beating, and ``reap_stale_runs`` (beat, and the start of every run) marks it
failed, "Interrupted (worker died)".
"""

import hashlib
import logging
import uuid
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.dispatch import Signal
from django.utils import timezone

from curation.logging import bind
from curation.roles import is_curator

from .arxiv_api import ArxivClient, ArxivError, EmptyPage, day_search, id_search, record_from_result
from .arxiv_ids import parse_arxiv_id
from .ingest import import_entries
from .models import HarvestRun, HarvestSource, Paper

# Sent (with ``run_id``) after a harvest run brought new or updated papers; the
# ranker (triage app) listens and rescores.
harvest_finished = Signal()

logger = logging.getLogger(__name__)

Status = HarvestRun.Status
# Namespace of our PostgreSQL advisory locks (two-int form: namespace, key).
_LOCK_NAMESPACE = 0x68617276  # "harv"
# How long a SQLite lease holds without a heartbeat (a page renews it).
_LEASE = timedelta(minutes=30)
# id_list requests: arXiv answers up to this many ids at once comfortably.
_IDS_PER_REQUEST = 100


def _day_start(day):
    return datetime.combine(day, time.min, UTC)


def _as_date(value):
    """A UTC day from a date, a datetime or an ISO string (what a Celery task receives)."""
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.astimezone(UTC).date()


# Locks ------------------------------------------------------------------------


def _lock_key(name):
    return int.from_bytes(hashlib.sha1(name.encode()).digest()[:4], "big", signed=True)


def _try_lock(source, lock_name):
    """Take the source's lock; a token to release it, or None when another run holds it."""
    if connection.vendor == "postgresql":
        # Session-level: held across the run's many transactions, released by
        # PostgreSQL itself if the worker dies.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, _lock_key(lock_name)])
            return lock_name if cursor.fetchone()[0] else None
    if source is None:
        return lock_name  # ad-hoc category runs on SQLite: nothing shared to lock
    token = uuid.uuid4().hex
    now = timezone.now()
    # One conditional UPDATE: atomic on SQLite as on any database.
    taken = (
        HarvestSource.objects.filter(pk=source.pk)
        .filter(Q(lease_token="") | Q(lease_expires_at__lt=now))
        .update(lease_token=token, lease_expires_at=now + _LEASE)
    )
    return token if taken else None


def _renew_lock(source, token):
    if connection.vendor != "postgresql" and source is not None:
        HarvestSource.objects.filter(pk=source.pk, lease_token=token).update(
            lease_expires_at=timezone.now() + _LEASE
        )


def _release_lock(source, token):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, _lock_key(token)])
    elif source is not None:
        HarvestSource.objects.filter(pk=source.pk, lease_token=token).update(
            lease_token="", lease_expires_at=None
        )


# Runs that end -------------------------------------------------------------------

INTERRUPTED = "Interrupted (worker died)"
# Kinds whose worker beats. Snapshot imports resume from their own last line instead.
_BEATING_KINDS = ["harvest", "fetch"]


def reap_stale_runs():
    """Mark failed the runs whose worker died (no heartbeat) or that no worker ever took; their ids.

    A run beats on every page and every retry (``_beat``), so a heartbeat older
    than HARVEST_HEARTBEAT_TIMEOUT means its worker is gone. The UPDATE repeats
    the test, so a run that beat in between is left alone.
    """
    now = timezone.now()
    silent_since = now - timedelta(seconds=settings.HARVEST_HEARTBEAT_TIMEOUT)
    dead = Q(status=Status.RUNNING) & (
        Q(heartbeat_at__lt=silent_since) | Q(heartbeat_at__isnull=True, started_at__lt=silent_since)
    )
    never_started = Q(
        status=Status.QUEUED, started_at__lt=now - timedelta(seconds=settings.HARVEST_QUEUED_TIMEOUT)
    )
    runs = HarvestRun.objects.filter(kind__in=_BEATING_KINDS)
    ids = list(runs.filter(dead | never_started).values_list("pk", flat=True))
    if not ids:
        return []
    minutes = settings.HARVEST_HEARTBEAT_TIMEOUT / 60
    runs.filter(dead, pk__in=ids).update(
        status=Status.FAILED,
        error=f"{INTERRUPTED}: no sign of life for {minutes:g} minutes. Papers already committed stay; "
        "start it again to finish.",
        finished_at=now,
    )
    hours = settings.HARVEST_QUEUED_TIMEOUT / 3600
    runs.filter(never_started, pk__in=ids).update(
        status=Status.FAILED,
        error=f"Never started: no worker took it from the task queue within {hours:g} hours. Try again.",
        finished_at=now,
    )
    logger.warning("marked %d harvest run(s) failed: worker died or never started: %s", len(ids), ids)
    return ids


def _beat(run):
    HarvestRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())


def _finish(run, status, error=""):
    run.refresh_from_db()
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run


# Entries arXiv sent that we could not use, or had to cut: the first few are kept on the run.
ENTRY_PROBLEMS_KEPT = 20


def _records(page):
    """(PaperRecords, skipped, trimmed) for a page: the reasons of entries left out or cut."""
    records, skipped, trimmed = [], list(page.problems), []
    for result in page.results:
        notes = []
        try:
            record = record_from_result(result, notes)
        except ValueError as exc:  # not an arXiv id we can key on
            skipped.append(f"{result.entry_id[:100]}: {exc}")
            continue
        records.append(record)
        if notes:
            trimmed.append(f"{record.arxiv_id}: {'; '.join(notes)}")
    return records, skipped, trimmed


def _import_page(run, records, skipped=(), trimmed=()):
    """Commit one page's papers and the run's counters (and its heartbeat) together."""
    with transaction.atomic():
        result = import_entries(records)
        HarvestRun.objects.filter(pk=run.pk).update(
            pages=F("pages") + 1,
            fetched=F("fetched") + len(records) + len(skipped),
            created_count=F("created_count") + len(result.created),
            updated_count=F("updated_count") + len(result.updated),
            unchanged_count=F("unchanged_count") + len(result.unchanged),
            skipped_entries=F("skipped_entries") + len(skipped),
            trimmed_entries=F("trimmed_entries") + len(trimmed),
            heartbeat_at=timezone.now(),
        )
        if skipped or trimmed:
            logger.warning("arXiv entries skipped: %s; trimmed: %s", list(skipped), list(trimmed))
            # Only this run's worker writes its row: read, extend, write is safe.
            kept = HarvestRun.objects.filter(pk=run.pk).values_list("entry_problems", flat=True).get()
            room = ENTRY_PROBLEMS_KEPT - len(kept)
            if room > 0:
                new = [f"skipped {reason}" for reason in skipped] + [
                    f"trimmed {reason}" for reason in trimmed
                ]
                HarvestRun.objects.filter(pk=run.pk).update(
                    entry_problems=kept + [reason[:300] for reason in new[:room]]
                )
    return result


# Harvesting -------------------------------------------------------------------


def _harvest_day(run, client, categories, day, page_size, on_page=None):
    """Fetch and commit every page of ``day``. True when the day is complete."""
    search = day_search(categories, day)
    # Today is still open: an empty page then is no sign of trouble (and the
    # mark never passes "now" anyway, so the next run looks at today again).
    weekday = day.weekday() < 5 and day < timezone.now().astimezone(UTC).date()
    start, total = 0, None
    while total is None or start < total:
        first = total is None
        try:
            if first:
                page = client.fetch_page(
                    search,
                    0,
                    page_size,
                    expect_results=weekday,
                    empty_retries=settings.ARXIV_EMPTY_FIRST_PAGE_RETRIES,
                )
            else:
                page = client.fetch_page(search, start, page_size, expect_results=True)
        except EmptyPage:
            return False
        total = page.total
        if not page.entries:
            return not weekday  # a weekend may be empty; reaching here on a weekday means unknown
        _import_page(run, *_records(page))
        # Unusable entries hold places in arXiv's list too: the next page starts after them.
        start += page.entries
        if on_page:
            on_page()
    return True


def _days(start, end):
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def harvest_source(source_id=None, *, since=None, until=None, categories=None, client=None):
    """Harvest a source (or ad-hoc ``categories``) and return its HarvestRun.

    ``since``/``until`` are dates (UTC days, inclusive); by default the run
    covers the source's high-water mark minus a day of overlap up to today.
    Never raises for arXiv trouble: the run's status and error say what happened.
    """
    source = HarvestSource.objects.get(pk=source_id) if source_id is not None else None
    cats = list(categories or (source.categories if source else []))
    today = timezone.now().astimezone(UTC).date()
    until_day = _as_date(until) or today
    if since is not None:
        since_day = _as_date(since)
    elif source is not None and source.high_water_mark is not None:
        since_day = _as_date(source.high_water_mark - timedelta(days=1))
    else:
        since_day = today - timedelta(days=settings.HARVEST_FIRST_DAYS)
    reap_stale_runs()
    run = HarvestRun.objects.create(
        source=source,
        kind="harvest",
        query=" OR ".join(f"cat:{c}" for c in cats),
        window_start=_day_start(since_day),
        window_end=_day_start(until_day + timedelta(days=1)),
        heartbeat_at=timezone.now(),
    )
    if not cats:
        return _finish(run, Status.FAILED, "No categories to harvest: give the source at least one.")
    if since_day > until_day:
        return _finish(run, Status.FAILED, f"The window is empty: {since_day} is after {until_day}.")

    lock_name = f"source:{source.pk}" if source else "categories:" + ",".join(sorted(cats))
    token = _try_lock(source, lock_name)
    if token is None:
        other = HarvestRun.objects.filter(source=source, status=Status.RUNNING).exclude(pk=run.pk).first()
        holder = f" (run #{other.pk})" if other else ""
        return _finish(run, Status.SKIPPED, f"Another harvest of {source or lock_name} is running{holder}.")
    try:
        if source is not None:
            # We hold the lock, so any other "running" run of this source died mid-way.
            HarvestRun.objects.filter(source=source, status=Status.RUNNING, kind="harvest").exclude(
                pk=run.pk
            ).update(
                status=Status.FAILED,
                error=f"{INTERRUPTED}: the source's lock was free again mid-run.",
                finished_at=timezone.now(),
            )
        # Every log line of the run carries its id.
        with bind(run_id=run.pk):
            return _run_days(run, source, cats, since_day, until_day, client, token)
    finally:
        _release_lock(source, token)


def _retry_counter(run):
    def on_retry(reason):
        # Beats too: a run waiting out arXiv's backoff is alive.
        HarvestRun.objects.filter(pk=run.pk).update(retries=F("retries") + 1, heartbeat_at=timezone.now())

    return on_retry


def _run_days(run, source, cats, since_day, until_day, client, token):
    client = client or ArxivClient()
    client.on_retry = _retry_counter(run)
    page_size = settings.ARXIV_PAGE_SIZE
    unknown = []
    started = timezone.now()
    # The mark may only move if this run's window joins up with it (no gap behind it).
    contiguous = source is not None and (
        source.high_water_mark is None or _day_start(since_day) <= source.high_water_mark
    )
    try:
        for day in _days(since_day, until_day):
            _beat(run)
            complete = _harvest_day(
                run, client, cats, day, page_size, on_page=lambda: _renew_lock(source, token)
            )
            if not complete:
                unknown.append(day.isoformat())
                HarvestRun.objects.filter(pk=run.pk).update(unknown_days=unknown)
                contiguous = False
            elif contiguous:
                # The day's pages are committed: now the mark may pass it.
                mark = min(_day_start(day + timedelta(days=1)), started)
                HarvestSource.objects.filter(pk=source.pk).filter(
                    Q(high_water_mark__isnull=True) | Q(high_water_mark__lt=mark)
                ).update(high_water_mark=mark)
    except ArxivError as exc:
        return _finish(run, Status.FAILED, str(exc))
    except Exception as exc:  # noqa: BLE001 - the run must record why it stopped
        logger.exception("harvest run %s crashed", run.pk)
        return _finish(run, Status.FAILED, f"{exc.__class__.__name__}: {exc}")
    problems = []
    if unknown:
        days = ", ".join(unknown)
        problems.append(
            f"arXiv returned no papers for weekday(s) {days}: unknown, not zero; the next run retries them."
        )
    skipped = HarvestRun.objects.filter(pk=run.pk).values_list("skipped_entries", flat=True).get()
    if skipped:
        # Their days are otherwise complete, so the mark moved on: a rerun with --since asks again.
        problems.append(
            f"{skipped} entries arXiv sent could not be used and were not imported (see Entry problems)."
        )
    if problems:
        return _finish(run, Status.PARTIAL, " ".join(problems))
    return _finish(run, Status.SUCCEEDED)


# Adding papers by hand ----------------------------------------------------------

# The most ids one request may name (the admin form allows as many; the API fewer).
MAX_IDS = 500


def may_add_papers(user):
    if user is None:
        return True  # the command line and tasks act for the deployment
    return user.is_superuser or (user.is_staff and is_curator(user))


def parse_inputs(texts):
    """One result dict per non-blank input, and ``{arxiv_id: [its result dicts]}`` for the valid ones.

    A result is ``input``, ``arxiv_id``, ``status`` and ``message``; a malformed
    input is an error naming it, the others still go on.
    """
    results, wanted = [], {}
    for text in texts:
        text = (text or "").strip()
        if not text:
            continue
        try:
            arxiv_id = parse_arxiv_id(text).id
        except ValueError as exc:
            results.append({"input": text[:500], "arxiv_id": "", "status": "error", "message": str(exc)})
            continue
        entry = {"input": text, "arxiv_id": arxiv_id, "status": "error", "message": ""}
        results.append(entry)
        wanted.setdefault(arxiv_id, []).append(entry)
    return results, wanted


def create_fetch_run(ids, *, by, status=Status.RUNNING):
    """The HarvestRun (kind "fetch") that will fetch ``ids``; its query holds them, space-separated."""
    return HarvestRun.objects.create(
        kind="fetch",
        query=" ".join(ids),
        status=status,
        requested_by=by if by is not None and by.pk else None,
        heartbeat_at=timezone.now() if status == Status.RUNNING else None,
    )


def _fetch_ids(run, ids, client):
    """Fetch ``ids`` from arXiv into the database; ({arxiv_id: status}, error) and the run finished."""
    client = client or ArxivClient()
    client.on_retry = _retry_counter(run)
    wanted = set(ids)
    found, error = {}, ""
    try:
        for offset in range(0, len(ids), _IDS_PER_REQUEST):
            chunk = ids[offset : offset + _IDS_PER_REQUEST]
            page = client.fetch_page(id_search(chunk), 0, len(chunk))
            records, skipped, trimmed = _records(page)
            outcome = _import_page(run, [r for r in records if r.arxiv_id in wanted], skipped, trimmed)
            for status, done in (
                ("created", outcome.created),
                ("updated", outcome.updated),
                ("unchanged", outcome.unchanged),
            ):
                for arxiv_id in done:
                    found[arxiv_id] = status
    except ArxivError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - the run must record why it stopped
        logger.exception("fetch run %s crashed", run.pk)
        error = f"{exc.__class__.__name__}: {exc}"
    missing = [i for i in ids if i not in found]
    if error:
        _finish(run, Status.FAILED if not found else Status.PARTIAL, error)
    elif missing:
        _finish(run, Status.PARTIAL, "Not found on arXiv: " + ", ".join(missing))
    else:
        _finish(run, Status.SUCCEEDED)
    return found, error


def add_papers_by_id(texts, *, by=None, client=None):
    """Fetch the papers named by ``texts`` (ids or arXiv URLs) from arXiv now and upsert them.

    For the command line and workers: it waits for arXiv. Web requests use
    ``papers.adding.request_papers``, which answers at once and queues this work.
    Returns one dict per input: ``input``, ``arxiv_id``, ``status`` ('created',
    'updated', 'unchanged' or 'error') and ``message``.
    """
    if not may_add_papers(by):
        raise PermissionDenied("Only editors and curators may add papers.")
    results, wanted = parse_inputs(texts)
    if not wanted:
        return results
    reap_stale_runs()
    run = create_fetch_run(list(wanted), by=by)
    with bind(run_id=run.pk):
        found, error = _fetch_ids(run, list(wanted), client)
    for arxiv_id, entries in wanted.items():
        for entry in entries:
            if arxiv_id in found:
                entry["status"] = found[arxiv_id]
                entry["message"] = f"{arxiv_id}: {found[arxiv_id]}"
            else:
                entry["message"] = error or f"{arxiv_id} was not found on arXiv."
    return results


def run_fetch(run_id, *, client=None):
    """Run a queued fetch run (``request_papers``); returns it, finished.

    A run that already ended (reaped, or done by an earlier delivery of the
    task) is left as it is; one left "running" by a worker that died is run
    again: the upsert is idempotent.
    """
    reap_stale_runs()
    claimed = HarvestRun.objects.filter(
        pk=run_id, kind="fetch", status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.RUNNING, heartbeat_at=timezone.now())
    run = HarvestRun.objects.get(pk=run_id)
    if not claimed:
        return run
    ids = run.query.split()
    with bind(run_id=run.pk):
        _fetch_ids(run, ids, client)
    run.refresh_from_db()
    return run


# Coverage ----------------------------------------------------------------------


def coverage(sources, *, until=None, days=30):
    """Papers per submission day (UTC) for each source, newest day first.

    Returns ``(day_rows, sources)``; each row is ``{"day", "weekday", "cells"}``
    with one cell per source: ``{"count", "gap", "unknown"}``. A weekday with
    no papers is a gap; ``unknown`` marks days a run could not vouch for.
    """
    sources = list(sources)
    if until is None:
        marks = [s.high_water_mark for s in sources if s.high_water_mark]
        last = (max(marks) - timedelta(seconds=1)) if marks else timezone.now()
        until = min(last, timezone.now()).astimezone(UTC).date()
    first = until - timedelta(days=days - 1)
    counts, unknown = {}, {}
    for source in sources:
        rows = (
            Paper.objects.in_any_category(source.categories)
            .filter(
                submitted_at__gte=_day_start(first), submitted_at__lt=_day_start(until + timedelta(days=1))
            )
            .annotate(day=TruncDate("submitted_at", tzinfo=UTC))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
        counts[source.pk] = dict(rows)
        unknown[source.pk] = {
            d
            for run_days in HarvestRun.objects.filter(source=source, status=Status.PARTIAL).values_list(
                "unknown_days", flat=True
            )[:50]
            for d in run_days
        }
    day_rows = []
    for offset in range(days):
        day = until - timedelta(days=offset)
        cells = []
        for source in sources:
            n = counts[source.pk].get(day, 0)
            cells.append(
                {
                    "count": n,
                    "gap": n == 0 and day.weekday() < 5,
                    "unknown": day.isoformat() in unknown[source.pk],
                }
            )
        day_rows.append({"day": day, "weekday": day.strftime("%a"), "cells": cells})
    return day_rows, sources
