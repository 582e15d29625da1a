"""Writing arXiv metadata into Papers: the one upsert every harvest path uses.

Keyed on the versionless arXiv id. A new id creates a Paper; a newer version
rewrites only the fields arXiv owns; the same (or an older) version writes
nothing at all. Fields editors own (links they set, picks, triage) are never
touched; detected code/project links only fill links that are still empty.

On PostgreSQL the writes are set-based (COPY for new rows, one UPDATE … FROM a
temporary table for new versions, COPY for authorships) because harvests and
snapshot backfills move tens of thousands of rows; the unchanged case is one
indexed SELECT per batch. SQLite uses the ORM with the same rules.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify

from .collaborations import without_collaboration_debris
from .models import Author, Authorship, Paper, display_author_name, normalize_author_name

# The fields a harvest may write on an existing Paper.
ARXIV_FIELDS = [
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
]
_NAME_MAX = Author._meta.get_field("name").max_length
_AFFILIATION_MAX = Authorship._meta.get_field("affiliation").max_length
# SQLite caps the number of bound parameters; stay well under it.
_SQLITE_CHUNK = 500

# Sent with ``paper_ids`` when an import brings new versions of existing papers.
papers_updated = Signal()


@dataclass
class PaperRecord:
    """One arXiv entry, parsed, whatever it came from (API feed, snapshot, by hand)."""

    arxiv_id: str
    version: int
    title: str
    abstract: str
    authors: list  # [(name, affiliation)] in order
    primary_category: str
    categories: list
    submitted_at: datetime
    updated_at: datetime
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""
    code_url: str = ""
    project_url: str = ""


@dataclass
class ImportResult:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)

    def add(self, other):
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


def _paper_fields(record):
    return {
        "version": record.version,
        "title": " ".join(record.title.split()),
        "abstract": " ".join(record.abstract.split()),
        "authors_text": ", ".join(display_author_name(n) for n, _ in record.authors),
        "primary_category": record.primary_category[:32],
        "categories": list(record.categories),
        "submitted_at": record.submitted_at,
        "updated_at": record.updated_at,
        "comment": record.comment or "",
        "journal_ref": record.journal_ref or "",
        "doi": (record.doi or "")[:255],
    }


@lru_cache(maxsize=100_000)
def _author_key(name):
    # Names repeat across papers and batches: normalize each once.
    return normalize_author_name(name)[:_NAME_MAX]


@lru_cache(maxsize=100_000)
def _slug_base(key):
    # Author.slug_for's base, from the already-normalized key.
    return slugify(key)[:300] or "author"


def _author_names(records):
    """{key: display name} for every author of ``records`` (keys fit the column)."""
    names = {}
    for record in records:
        for name, _affiliation in record.authors:
            key = _author_key(name)
            if key and key not in names:
                names[key] = display_author_name(name)[:_NAME_MAX]
    return names


def _chunks(items, size):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


# Reads ---------------------------------------------------------------------------


def _existing_versions(ids):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT arxiv_id, version FROM papers_paper WHERE arxiv_id = ANY(%s)", [ids])
            return dict(cursor.fetchall())
    found = {}
    for chunk in _chunks(ids, _SQLITE_CHUNK):
        found.update(Paper.objects.filter(arxiv_id__in=chunk).values_list("arxiv_id", "version"))
    return found


def _taken_slugs(bases):
    """Slugs in use among ``bases`` and their numbered variants (base-2, base-3 …)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT slug FROM papers_author WHERE slug = ANY(%s)", [bases])
            taken = {row[0] for row in cursor.fetchall()}
            if taken:
                # Only a clash needs its variants: one prefix scan for those few.
                patterns = [b.replace("_", r"\_") + "-%" for b in taken]
                cursor.execute("SELECT slug FROM papers_author WHERE slug LIKE ANY(%s)", [patterns])
                taken.update(row[0] for row in cursor.fetchall())
            return taken
    taken = set()
    for chunk in _chunks(bases, _SQLITE_CHUNK):
        taken.update(Author.objects.filter(slug__in=chunk).values_list("slug", flat=True))
    clashes = list(taken)
    for chunk in _chunks(clashes, 100):
        query = Q()
        for base in chunk:
            query |= Q(slug__startswith=f"{base}-")
        taken.update(Author.objects.filter(query).values_list("slug", flat=True))
    return taken


def _read_author_ids(keys):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT key, id FROM papers_author WHERE key = ANY(%s)", [list(keys)])
            return dict(cursor.fetchall())
    ids = {}
    for chunk in _chunks(keys, _SQLITE_CHUNK):
        ids.update(Author.objects.filter(key__in=chunk).values_list("key", "id"))
    return ids


def _insert_authors(authors):
    """Insert (name, key, slug) rows; a key a concurrent import just added is skipped."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO papers_author (name, key, slug) "
                "SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[]) ON CONFLICT DO NOTHING",
                [[a[0] for a in authors], [a[1] for a in authors], [a[2] for a in authors]],
            )
        return
    Author.objects.bulk_create(
        [Author(name=n, key=k, slug=s) for n, k, s in authors], ignore_conflicts=True, batch_size=200
    )


def _author_ids(records):
    """{key: author id} for every author in ``records``, creating the missing ones."""
    names = _author_names(records)
    if not names:
        return {}
    ids = _read_author_ids(list(names))
    missing = [key for key in names if key not in ids]
    if missing:
        bases = {key: _slug_base(key) for key in missing}
        taken = _taken_slugs(sorted(set(bases.values())))
        new = []
        for key in missing:
            slug, n = bases[key], 2
            while slug in taken:
                slug, n = f"{bases[key]}-{n}", n + 1
            taken.add(slug)
            new.append((names[key], key, slug))
        _insert_authors(new)
        ids.update(_read_author_ids(missing))
    return ids


# Writes: PostgreSQL ---------------------------------------------------------------

_TMP_COLUMNS = ["arxiv_id", *ARXIV_FIELDS, "code_url", "project_url"]


def _new_paper_columns():
    return [f for f in Paper._meta.concrete_fields if not f.primary_key and f.attname != "search_vector"]


def _copy_value(fld, value):
    if value is None:
        return None
    if fld.get_internal_type() == "JSONField":
        return json.dumps(value)
    return value


def _pg_create(records):
    """COPY new Papers; returns {arxiv_id: id}."""
    now = timezone.now()
    fields = _new_paper_columns()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY papers_paper ({columns}) FROM STDIN") as copy:
            for record in records:
                values = _paper_fields(record)
                values.update(
                    arxiv_id=record.arxiv_id,
                    code_url=record.code_url[:500],
                    project_url=record.project_url[:500],
                    links_set_by_editor=False,
                    created=now,
                    modified=now,
                )
                # Columns other apps add to Paper get their model default.
                copy.write_row(
                    [
                        _copy_value(f, values[f.attname] if f.attname in values else f.get_default())
                        for f in fields
                    ]
                )
        cursor.execute(
            "SELECT arxiv_id, id FROM papers_paper WHERE arxiv_id = ANY(%s)", [[r.arxiv_id for r in records]]
        )
        return dict(cursor.fetchall())


def _pg_update(records):
    """Rewrite arXiv's fields of papers with a newer version.

    Returns ({arxiv_id: id} of those updated, the ids whose author names changed).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS paper_import_tmp (arxiv_id varchar(64), version integer, "
            "title text, abstract text, authors_text text, primary_category varchar(32), categories jsonb, "
            "submitted_at timestamptz, updated_at timestamptz, comment text, journal_ref text, "
            "doi varchar(255), code_url varchar(500), project_url varchar(500))"
        )
        cursor.execute("TRUNCATE paper_import_tmp")
        with cursor.copy(f"COPY paper_import_tmp ({', '.join(_TMP_COLUMNS)}) FROM STDIN") as copy:
            for record in records:
                values = _paper_fields(record)
                copy.write_row(
                    [
                        record.arxiv_id,
                        *[json.dumps(values[n]) if n == "categories" else values[n] for n in ARXIV_FIELDS],
                        record.code_url[:500],
                        record.project_url[:500],
                    ]
                )
        assignments = ", ".join(f"{n} = t.{n}" for n in ARXIV_FIELDS)
        cursor.execute(
            f"UPDATE papers_paper p SET {assignments}, "
            # Detected links only fill empty ones, and never those an editor set.
            "code_url = CASE WHEN p.links_set_by_editor OR p.code_url <> '' THEN p.code_url ELSE t.code_url END, "
            "project_url = CASE WHEN p.links_set_by_editor OR p.project_url <> '' "
            "THEN p.project_url ELSE t.project_url END, "
            "modified = %s "
            # ``old`` is the row as it was before this UPDATE: tells whether the authors changed.
            "FROM paper_import_tmp t, papers_paper old "
            "WHERE p.arxiv_id = t.arxiv_id AND old.id = p.id AND t.version > p.version "
            "RETURNING p.arxiv_id, p.id, old.authors_text IS DISTINCT FROM t.authors_text",
            [timezone.now()],
        )
        rows = cursor.fetchall()
        return {arxiv_id: paper_id for arxiv_id, paper_id, _ in rows}, {
            arxiv_id for arxiv_id, _, authors_changed in rows if authors_changed
        }


def _pg_write_authorships(paper_ids, records, authors, replace):
    with connection.cursor() as cursor:
        if replace:
            cursor.execute("DELETE FROM papers_authorship WHERE paper_id = ANY(%s)", [list(replace)])
        with cursor.copy(
            "COPY papers_authorship (paper_id, author_id, position, affiliation) FROM STDIN"
        ) as copy:
            for record in records:
                paper_id = paper_ids.get(record.arxiv_id)
                if paper_id is None:
                    continue
                for position, author_id, affiliation in _authorship_rows(record, authors):
                    copy.write_row((paper_id, author_id, position, affiliation))


def _authorship_rows(record, authors):
    seen = set()
    for position, (name, affiliation) in enumerate(record.authors, start=1):
        author_id = authors.get(_author_key(name))
        if author_id is None or author_id in seen:
            continue  # the same person twice in one author list counts once
        seen.add(author_id)
        yield position, author_id, (affiliation or "")[:_AFFILIATION_MAX]


# Writes: any database (the ORM) -----------------------------------------------------


def _orm_create(records):
    now = timezone.now()
    papers = []
    for record in records:
        paper = Paper(
            arxiv_id=record.arxiv_id, code_url=record.code_url[:500], project_url=record.project_url[:500]
        )
        for name, value in _paper_fields(record).items():
            setattr(paper, name, value)
        paper.created = paper.modified = now
        papers.append(paper)
    Paper.objects.bulk_create(papers, batch_size=_SQLITE_CHUNK // 20)
    ids = {}
    for chunk in _chunks([r.arxiv_id for r in records], _SQLITE_CHUNK):
        ids.update(Paper.objects.filter(arxiv_id__in=chunk).values_list("arxiv_id", "id"))
    return ids


def _orm_update(records):
    by_id = {r.arxiv_id: r for r in records}
    papers = []
    for chunk in _chunks(by_id, _SQLITE_CHUNK):
        papers += list(Paper.objects.filter(arxiv_id__in=chunk))
    now = timezone.now()
    changed = []
    for paper in papers:
        record = by_id[paper.arxiv_id]
        if record.version <= paper.version:
            continue
        for name, value in _paper_fields(record).items():
            setattr(paper, name, value)
        if not paper.links_set_by_editor:
            paper.code_url = paper.code_url or record.code_url[:500]
            paper.project_url = paper.project_url or record.project_url[:500]
        paper.modified = now
        changed.append(paper)
    Paper.objects.bulk_update(changed, ARXIV_FIELDS + ["code_url", "project_url", "modified"], batch_size=200)
    # The ORM path does not know the old author list: rewrite them all.
    return {p.arxiv_id: p.pk for p in changed}, {p.arxiv_id for p in changed}


def _orm_write_authorships(paper_ids, records, authors, replace):
    for chunk in _chunks(replace, _SQLITE_CHUNK):
        Authorship.objects.filter(paper_id__in=chunk).delete()
    rows = []
    for record in records:
        paper_id = paper_ids.get(record.arxiv_id)
        if paper_id is None:
            continue
        for position, author_id, affiliation in _authorship_rows(record, authors):
            rows.append(
                Authorship(paper_id=paper_id, author_id=author_id, position=position, affiliation=affiliation)
            )
    Authorship.objects.bulk_create(rows, batch_size=_SQLITE_CHUNK // 5)


# The upsert -------------------------------------------------------------------------


def import_entries(records):
    """Upsert ``records`` (PaperRecord) and return what happened to each id."""
    # The last record of an id wins within one batch (arXiv may list it twice).
    by_id = {record.arxiv_id: record for record in records}
    if not by_id:
        return ImportResult()
    for attempt in range(3):
        try:
            return _import(by_id)
        except IntegrityError:
            # A concurrent import created one of our "new" ids between our read
            # and our write: read again; it is now an existing paper.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _import(by_id):
    result = ImportResult()
    versions = _existing_versions(list(by_id))
    new, newer = [], []
    for arxiv_id, record in by_id.items():
        known = versions.get(arxiv_id)
        if known is None:
            new.append(record)
        elif record.version > known:
            newer.append(record)
        else:
            result.unchanged.append(arxiv_id)
    if not new and not newer:
        return result  # nothing changed: no write at all
    # Only what is written: "MiniMax", ":", "Aili Chen" → "MiniMax", "Aili Chen" (papers/collaborations.py).
    new = [without_collaboration_debris(r) for r in new]
    newer = [without_collaboration_debris(r) for r in newer]
    postgres = connection.vendor == "postgresql"
    created = (_pg_create if postgres else _orm_create)(new) if new else {}
    updated, authors_changed = (_pg_update if postgres else _orm_update)(newer) if newer else ({}, set())
    # A new version with the same author names keeps its authorships, unless it brings affiliations.
    rewrite = [
        r
        for r in newer
        if r.arxiv_id in authors_changed or (r.arxiv_id in updated and any(a for _, a in r.authors))
    ]
    authors = _author_ids(new + rewrite)
    write = _pg_write_authorships if postgres else _orm_write_authorships
    write({**created, **updated}, new + rewrite, authors, [updated[r.arxiv_id] for r in rewrite])
    result.created = [r.arxiv_id for r in new]
    result.updated = [r.arxiv_id for r in newer if r.arxiv_id in updated]
    if updated:
        # Published pages and API answers showing these papers are stale now (issues/page_cache.py).
        papers_updated.send(sender=Paper, paper_ids=list(updated.values()))
    result.unchanged += [r.arxiv_id for r in newer if r.arxiv_id not in updated]
    return result
