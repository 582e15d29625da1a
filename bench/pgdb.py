"""The harvest benchmarks' PostgreSQL database and the twin table they compare against.

They run on ``curation_bench`` on the server of DATABASE_URL (or the local
PostgreSQL when DATABASE_URL is not PostgreSQL), migrated like production.
The twin is a copy of papers_paper with the same columns, indexes (the GIN
full-text and categories indexes included) and the search-vector trigger,
into which the baselines COPY the same rows with psycopg 3.
"""

import json
import os
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import psycopg
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

BENCH_DB = os.environ.get("HARVEST_BENCH_DB", "curation_bench")
_GUARD_KEY = 0x62656E6368  # "bench"
_guard = None
TWIN = "bench_paper_twin"
# Paper columns the baselines write (search_vector comes from the trigger, id from the identity).
COLUMNS = [
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "authors_text",
    "primary_category",
    "categories",
    "submitted_at",
    "updated_at",
    "comment",
    "journal_ref",
    "doi",
    "code_url",
    "project_url",
    "links_set_by_editor",
    "created",
    "modified",
]


def scale(n):
    """Benchmark sizes shrink with BENCH_SCALE (e.g. 0.1 while developing)."""
    return max(1, int(n * float(os.environ.get("BENCH_SCALE", "1"))))


def _server_url():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    return url


def use_bench_database():
    """Point Django's default connection at curation_bench (created and migrated if needed)."""
    parts = urlsplit(_server_url())
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    # Two bench runs at once (two people typing `make bench`) would truncate each
    # other's tables: the second waits for the first. Held until this process exits.
    global _guard
    if _guard is None:
        _guard = psycopg.connect(admin_url, autocommit=True)
        _guard.execute("SELECT pg_advisory_lock(%s)", [_GUARD_KEY])
    old = connections.settings["default"]
    parsed = dj_database_url.parse(bench_url)
    new = {**old, **parsed, "OPTIONS": parsed.get("OPTIONS") or {}}
    new["TEST"] = old.get("TEST", {})
    connections["default"].close()
    connections.settings["default"] = new
    del connections["default"]
    call_command("migrate", verbosity=0, interactive=False)
    return bench_url


def create_twin():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TWIN}")
        cursor.execute(f"CREATE TABLE {TWIN} (LIKE papers_paper INCLUDING ALL)")
        cursor.execute(
            f"CREATE TRIGGER {TWIN}_search_vector_trg BEFORE INSERT OR UPDATE OF title, authors_text, abstract "
            f"ON {TWIN} FOR EACH ROW EXECUTE FUNCTION papers_paper_search_vector()"
        )


def truncate_twin():
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TWIN}")


def reset_papers():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE papers_paper, papers_author, papers_authorship, papers_harvestrun CASCADE")


def twin_row(record, now):
    return (
        record.arxiv_id,
        record.version,
        " ".join(record.title.split()),
        " ".join(record.abstract.split()),
        ", ".join(name for name, _ in record.authors),
        record.primary_category,
        json.dumps(record.categories),
        record.submitted_at,
        record.updated_at,
        record.comment,
        record.journal_ref,
        record.doi,
        record.code_url,
        record.project_url,
        False,
        now,
        now,
    )


def copy_into_twin(records):
    """The baseline: a plain COPY of the records' rows into the twin (one transaction)."""
    now = timezone.now()
    raw = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {TWIN} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(twin_row(record, now))
    raw.commit() if not raw.autocommit else None
