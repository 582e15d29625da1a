"""Writing arXiv metadata into Papers: the one upsert every harvest path uses.

Keyed on the versionless arXiv id. A new id creates a Paper; a newer version
rewrites only the fields arXiv owns; the same version writes nothing. Fields
editors own (links they set, picks, triage) are never touched.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

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


def _authors_by_key(records):
    """Author rows for every name in ``records``, created in bulk where missing."""
    names = {}
    for record in records:
        for name, _affiliation in record.authors:
            key = normalize_author_name(name)
            if key:
                names.setdefault(key, display_author_name(name))
    existing = {a.key: a for a in Author.objects.filter(key__in=names)}
    missing = [key for key in names if key not in existing]
    if missing:
        taken = set(
            Author.objects.filter(slug__in=[Author.slug_for(names[k]) for k in missing]).values_list(
                "slug", flat=True
            )
        )
        new = []
        for key in missing:
            slug = Author.slug_for(names[key], taken)
            taken.add(slug)
            new.append(Author(name=names[key], key=key, slug=slug))
        Author.objects.bulk_create(new, ignore_conflicts=True)
        existing.update({a.key: a for a in Author.objects.filter(key__in=missing)})
    return existing


def _write_authorships(papers_and_records, authors):
    Authorship.objects.filter(paper__in=[p for p, _ in papers_and_records]).delete()
    rows = []
    for paper, record in papers_and_records:
        seen = set()
        for position, (name, affiliation) in enumerate(record.authors, start=1):
            author = authors.get(normalize_author_name(name))
            if author is None or author.pk in seen:
                continue
            seen.add(author.pk)
            rows.append(
                Authorship(paper=paper, author=author, position=position, affiliation=affiliation or "")
            )
    Authorship.objects.bulk_create(rows)


def _paper_fields(record):
    return {
        "version": record.version,
        "title": " ".join(record.title.split()),
        "abstract": " ".join(record.abstract.split()),
        "authors_text": ", ".join(display_author_name(n) for n, _ in record.authors),
        "primary_category": record.primary_category,
        "categories": list(record.categories),
        "submitted_at": record.submitted_at,
        "updated_at": record.updated_at,
        "comment": record.comment or "",
        "journal_ref": record.journal_ref or "",
        "doi": record.doi or "",
    }


@transaction.atomic
def import_entries(records):
    """Upsert ``records`` (PaperRecord) and return what happened to each id."""
    result = ImportResult()
    # The last record of an id wins within one batch (arXiv may list it twice).
    by_id = {record.arxiv_id: record for record in records}
    if not by_id:
        return result
    existing = {p.arxiv_id: p for p in Paper.objects.filter(arxiv_id__in=by_id)}
    to_create, to_update = [], []
    for arxiv_id, record in by_id.items():
        paper = existing.get(arxiv_id)
        if paper is None:
            paper = Paper(arxiv_id=arxiv_id, code_url=record.code_url, project_url=record.project_url)
            for name, value in _paper_fields(record).items():
                setattr(paper, name, value)
            to_create.append((paper, record))
        elif record.version > paper.version:
            for name, value in _paper_fields(record).items():
                setattr(paper, name, value)
            if not paper.links_set_by_editor:
                paper.code_url = paper.code_url or record.code_url
                paper.project_url = paper.project_url or record.project_url
            paper.modified = timezone.now()
            to_update.append((paper, record))
        else:
            result.unchanged.append(arxiv_id)
    authors = _authors_by_key([r for _, r in to_create + to_update])
    Paper.objects.bulk_create([p for p, _ in to_create])
    if to_update:
        Paper.objects.bulk_update(
            [p for p, _ in to_update], ARXIV_FIELDS + ["code_url", "project_url", "modified"]
        )
    _write_authorships(to_create + to_update, authors)
    result.created = [p.arxiv_id for p, _ in to_create]
    result.updated = [p.arxiv_id for p, _ in to_update]
    return result
