"""Papers as arXiv knows them, the people who wrote them, and how we harvest them."""

import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import connection, models
from django.urls import reverse
from django.utils.text import slugify

from .arxiv_ids import abs_url, pdf_url


def normalize_author_name(name):
    """The key that makes the same person one Author across papers.

    arXiv has no author ids: "Mario Lučić", "Mario  Lucic" and "MARIO LUCIC"
    are the same name once Unicode-folded, accents dropped, white space
    collapsed and case folded.
    """
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.split()).casefold()


def display_author_name(name):
    """A name as shown: Unicode-composed, single spaces."""
    return " ".join(unicodedata.normalize("NFC", name or "").split())


class Author(models.Model):
    name = models.CharField(max_length=300, help_text="The name as arXiv first gave it.")
    key = models.CharField(
        max_length=300,
        unique=True,
        editable=False,
        help_text="Normalized name; one Author per key.",
    )
    slug = models.SlugField(max_length=320, unique=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("issues:author", args=[self.slug])

    @staticmethod
    def slug_for(name, taken=()):
        base = slugify(normalize_author_name(name))[:300] or "author"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        return slug


class PaperQuerySet(models.QuerySet):
    def in_category(self, category):
        """Papers listed in ``category`` (primary or cross-list)."""
        if connection.vendor == "postgresql":
            # jsonb containment, served by the GIN index on categories.
            return self.filter(categories__contains=[category])
        # SQLite has no JSON containment: match the quoted item in the JSON text.
        return self.filter(categories__icontains=f'"{category}"')

    def in_any_category(self, categories):
        """Papers listed in any of ``categories`` (a harvest source's pool)."""
        query = models.Q(pk__in=[])
        for category in categories:
            if connection.vendor == "postgresql":
                query |= models.Q(categories__contains=[category])
            else:
                query |= models.Q(categories__icontains=f'"{category}"')
        return self.filter(query)

    def with_authors(self):
        return self.prefetch_related(
            models.Prefetch(
                "authorships",
                queryset=Authorship.objects.select_related("author").order_by("position"),
            )
        )


class Paper(models.Model):
    # Fields arXiv owns: harvests write these and nothing else.
    arxiv_id = models.CharField(
        max_length=64,
        unique=True,
        help_text="arXiv id without version, e.g. 2103.10360 or hep-th/9901001.",
    )
    version = models.PositiveIntegerField(default=1, help_text="Latest version seen on arXiv.")
    title = models.TextField()
    abstract = models.TextField(blank=True)
    authors = models.ManyToManyField(Author, through="Authorship", related_name="papers")
    authors_text = models.TextField(
        blank=True,
        editable=False,
        help_text="Author names in order, for search; written with the authors.",
    )
    primary_category = models.CharField(max_length=32, db_index=True)
    categories = models.JSONField(default=list, help_text="All arXiv categories, the primary one first.")
    submitted_at = models.DateTimeField(db_index=True, help_text="When version 1 was submitted to arXiv.")
    updated_at = models.DateTimeField(help_text="When arXiv last updated the paper.")
    comment = models.TextField(blank=True)
    journal_ref = models.TextField(blank=True)
    doi = models.CharField(max_length=255, blank=True)

    # Fields editors own (links may also be detected by the harvester until an
    # editor sets them, see ``links_set_by_editor``).
    code_url = models.URLField(max_length=500, blank=True)
    project_url = models.URLField(max_length=500, blank=True)
    links_set_by_editor = models.BooleanField(
        default=False,
        help_text="Set when an editor edits the code/project links: harvests stop touching them.",
    )

    search_vector = SearchVectorField(null=True, editable=False)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    modified = models.DateTimeField(auto_now=True)

    objects = PaperQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at"]
        # PostgreSQL-only indexes (GIN on categories and search_vector) and the
        # trigger that fills search_vector live in migration 0002: SQLite
        # cannot create them.

    def __str__(self):
        return f"{self.arxiv_id}: {self.title}"

    def get_absolute_url(self):
        return reverse("issues:paper", args=[self.arxiv_id])

    @property
    def abs_url(self):
        return abs_url(self.arxiv_id)

    @property
    def pdf_url(self):
        return pdf_url(self.arxiv_id)

    @property
    def has_code(self):
        return bool(self.code_url)

    def ordered_authors(self):
        """Authors in order; uses the prefetch from ``with_authors()`` when present."""
        return [a.author for a in sorted(self.authorships.all(), key=lambda a: a.position)]


class Authorship(models.Model):
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="authorships")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="authorships")
    position = models.PositiveSmallIntegerField()
    affiliation = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["paper", "position"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "position"], name="authorship_position_unique"),
        ]

    def __str__(self):
        return f"{self.author} ({self.position}) on {self.paper.arxiv_id}"


class HarvestSource(models.Model):
    name = models.CharField(max_length=100, unique=True)
    categories = models.JSONField(default=list, help_text="arXiv categories to harvest, e.g. cs.LG, cs.CL.")
    enabled = models.BooleanField(default=True, help_text="Harvested on the beat schedule.")
    high_water_mark = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Submissions up to here are committed. Advances only after a run commits.",
    )
    # The lease that keeps two harvests of a source apart on SQLite (PostgreSQL
    # uses an advisory lock, released even if the worker dies).
    lease_token = models.CharField(max_length=64, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class HarvestRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        PARTIAL = "partial", "partial"
        FAILED = "failed", "failed"
        SKIPPED = "skipped", "skipped"

    source = models.ForeignKey(
        HarvestSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    kind = models.CharField(max_length=20, default="harvest", help_text="harvest, fetch (by id) or snapshot.")
    query = models.TextField(blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Last sign of life of the worker running it; a running run whose heartbeat stops "
        "is marked failed (interrupted) by the reaper.",
    )
    pages = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    skipped_entries = models.PositiveIntegerField(
        default=0, help_text="Entries arXiv sent that could not be used (bad id, bad date…): not imported."
    )
    trimmed_entries = models.PositiveIntegerField(
        default=0, help_text="Entries imported with a field cut to its limit (a title of megabytes…)."
    )
    entry_problems = models.JSONField(
        default=list, blank=True, help_text="The first skipped or trimmed entries, with the reason."
    )
    unknown_days = models.JSONField(
        default=list,
        blank=True,
        help_text="Weekdays arXiv answered with an empty first page: unknown, not zero; retried next run.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resume_line = models.PositiveBigIntegerField(
        default=0, help_text="Snapshot imports: lines committed so far; a rerun resumes after them."
    )
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["queued", "running", "succeeded", "partial", "failed", "skipped"]
                ),
                name="harvestrun_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk} {self.status}"
