"""Issues, their picks, and the triage that leads to them."""

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import F, Prefetch
from django.urls import reverse
from django.utils import timezone

from papers.models import Author, Authorship, Paper


class IssueQuerySet(models.QuerySet):
    def published(self):
        """The only way public code gets issues: drafts, reviews and scheduled ones never show."""
        return self.filter(status=Issue.Status.PUBLISHED, published_at__isnull=False)

    def for_public_page(self):
        """Published issues with everything the issue page shows, in a fixed number of queries."""
        return self.published().with_page_contents()

    def with_page_contents(self):
        """Prefetch what the issue page shows; staff previews use it without ``published()``."""
        return self.prefetch_related(*page_contents())

    def with_stored_page(self):
        """Annotate the issue's stored page body and the publication version it was rendered
        for (issues/issue_page.py), in the same query as the issue."""
        return self.annotate(
            stored_version=F("stored_page__version"),
            stored_body_html=F("stored_page__body_html"),
            stored_nav_html=F("stored_page__nav_html"),
            stored_jsonld=F("stored_page__jsonld"),
        )

    def latest_first(self):
        return self.order_by("-published_at", "-pk")

    def with_neighbours(self):
        """Annotate the previous and next *published* issues' slug and title, in the same query."""
        published = Issue.objects.published()
        older = published.filter(
            models.Q(published_at__lt=models.OuterRef("published_at"))
            | models.Q(published_at=models.OuterRef("published_at"), pk__lt=models.OuterRef("pk"))
        ).order_by("-published_at", "-pk")
        newer = published.filter(
            models.Q(published_at__gt=models.OuterRef("published_at"))
            | models.Q(published_at=models.OuterRef("published_at"), pk__gt=models.OuterRef("pk"))
        ).order_by("published_at", "pk")
        return self.annotate(
            previous_slug=models.Subquery(older.values("slug")[:1]),
            previous_title=models.Subquery(older.values("title")[:1]),
            next_slug=models.Subquery(newer.values("slug")[:1]),
            next_title=models.Subquery(newer.values("title")[:1]),
        )


class Issue(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        REVIEW = "review", "in review"
        SCHEDULED = "scheduled", "scheduled"
        PUBLISHED = "published", "published"

    title = models.CharField(max_length=200)
    subtitle = models.CharField(max_length=300, blank=True)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The issue's permanent URL. Editable until the first publication, then frozen.",
    )
    period_start = models.DateField(help_text="First day of submissions this issue covers.")
    period_end = models.DateField(help_text="Last day of submissions this issue covers.")
    byline = models.CharField(max_length=300, blank=True, help_text="Shown under the title.")
    intro = models.TextField(blank=True, help_text="Markdown. Cite with [^key].")
    intro_html = models.TextField(blank=True, editable=False)
    outro = models.TextField(blank=True, help_text="Markdown. Cite with [^key].")
    outro_html = models.TextField(blank=True, editable=False)
    references = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="The numbered reference list, rendered from the footnotes at save.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(
        null=True, blank=True, help_text="When a scheduled issue goes out by itself."
    )
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="Set once, at the first publication."
    )
    publish_error = models.TextField(
        blank=True, editable=False, help_text="Why the last scheduled publication failed."
    )
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="edited_issues",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(
        default=timezone.now,
        help_text="Last change readers can see; shown as “updated” after a correction.",
    )
    lock_version = models.PositiveIntegerField(
        default=0, editable=False, help_text="Bumped on every save; refuses stale edits."
    )
    preview_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Signed into every preview link; revoking the issue's links bumps it (issues/preview.py).",
    )

    objects = IssueQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "review", "scheduled", "published"]),
                name="issue_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="issue_period_ordered",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("issues:issue", args=[self.slug])

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    @property
    def was_corrected(self):
        """True when readers should see an "updated" date after publication."""
        return bool(
            self.published_at
            and self.updated_at
            and (self.updated_at - self.published_at).total_seconds() > 60
        )


class IssuePage(models.Model):
    """A published issue's page body (picks, previous/next links, JSON-LD) as rendered for one
    publication version (issues/issue_page.py).

    A table of its own so that nothing else reading issues loads it.
    """

    issue = models.OneToOneField(
        Issue, on_delete=models.CASCADE, primary_key=True, related_name="stored_page"
    )
    version = models.CharField(
        max_length=80, help_text="The publication version (and template code) it was rendered for."
    )
    body_html = models.TextField()
    nav_html = models.TextField(blank=True)
    jsonld = models.TextField()

    def __str__(self):
        return f"Stored page of {self.issue_id}"


class PublicationVersion(models.Model):
    """What readers can see, as one token: replaced whenever published content changes.

    One row. The functions that change published content (issues/publishing.py,
    editing.py, figures.py, and a harvest of a picked paper) replace the token
    in the same transaction as the change, so it can never disagree with the
    data. Cached pages and API answers are kept under the token they were
    rendered for (issues/page_cache.py) and served only while it is current.
    """

    token = models.CharField(max_length=32)

    def __str__(self):
        return self.token


class PickQuerySet(models.QuerySet):
    def published(self):
        """Picks of published issues: what readers, feeds, search and the public API may show."""
        return self.filter(issue__in=Issue.objects.published())

    def papers(self):
        """The papers of these picks, each once: ``Pick.objects.published().papers()``."""
        return Paper.objects.filter(pk__in=self.values("paper_id"))

    def authors(self):
        """The authors of these picks' papers, each once: ``Pick.objects.published().authors()``."""
        return Author.objects.filter(
            pk__in=Authorship.objects.filter(paper__in=self.values("paper_id")).values("author_id")
        )


class Pick(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="picks")
    paper = models.ForeignKey(Paper, on_delete=models.PROTECT, related_name="picks")
    position = models.PositiveSmallIntegerField(help_text="1 is the first pick of the issue.")
    why = models.TextField(blank=True, help_text="Markdown: why this paper matters.")
    why_html = models.TextField(blank=True, editable=False)
    key_insights = models.TextField(blank=True, help_text="Markdown: the key insights.")
    key_insights_html = models.TextField(blank=True, editable=False)
    code_url = models.URLField(max_length=500, blank=True)
    demo_url = models.URLField(max_length=500, blank=True)
    paper_version = models.PositiveIntegerField(
        default=1, help_text="The arXiv version this commentary was written about."
    )
    paper_title = models.TextField(
        blank=True, help_text="The paper's title as it was when picked; kept if arXiv changes it."
    )
    curator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="picks",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    lock_version = models.PositiveIntegerField(default=0, editable=False)

    objects = PickQuerySet.as_manager()

    class Meta:
        ordering = ["issue", "position"]
        constraints = [
            models.UniqueConstraint(fields=["issue", "paper"], name="pick_paper_once_per_issue"),
            models.UniqueConstraint(fields=["issue", "position"], name="pick_position_unique"),
        ]

    def __str__(self):
        return f"{self.issue} #{self.position}: {self.title}"

    @property
    def title(self):
        return self.paper_title or self.paper.title

    @property
    def has_newer_version(self):
        return self.paper.version > self.paper_version


def figure_upload_to(instance, filename):
    return f"figures/{timezone.now():%Y/%m}/{filename}"


class Figure(models.Model):
    pick = models.ForeignKey(Pick, on_delete=models.CASCADE, related_name="figures")
    image = models.ImageField(upload_to=figure_upload_to, width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True, editable=False)
    height = models.PositiveIntegerField(null=True, editable=False)
    alt_text = models.CharField(
        max_length=500, help_text="Required: what the figure shows, for readers who can't see it."
    )
    caption = models.TextField(blank=True)
    credit = models.CharField(max_length=300, blank=True, help_text="Source, e.g. the paper.")
    credit_url = models.URLField(max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=1)
    renditions = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Smaller copies for responsive images: [{width, height, name}], made at upload.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pick", "position", "pk"]

    def __str__(self):
        return self.alt_text

    @property
    def srcset(self):
        """``srcset`` for the responsive renditions plus the original, for <img>."""
        items = [f"{default_storage.url(r['name'])} {r['width']}w" for r in self.renditions]
        if self.image and self.width:
            items.append(f"{self.image.url} {self.width}w")
        return ", ".join(items)


class SchedulerHeartbeat(models.Model):
    """When the scheduler last looked for due issues (issues/heartbeat.py).

    One row per scheduled job, written by every run whoever runs it (Celery
    beat's task or the embedded mode's in-process beat), so the admin can say
    when it last ran and warn when it has stopped.
    """

    job = models.CharField(max_length=50, primary_key=True)
    last_run_at = models.DateTimeField()
    published = models.PositiveIntegerField(default=0, help_text="Issues the last run published.")
    failed = models.PositiveIntegerField(default=0, help_text="Due issues the last run could not publish.")

    def __str__(self):
        return f"{self.job} at {self.last_run_at:%Y-%m-%d %H:%M:%S}"


class Revision(models.Model):
    """A saved state of an Issue or Pick: who, when, and the fields at that time."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="revisions")
    pick = models.ForeignKey(Pick, null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions")
    object_type = models.CharField(max_length=10, help_text="issue or pick.")
    object_id = models.PositiveBigIntegerField()
    data = models.JSONField(help_text="The editable fields after the save.")
    changed_fields = models.JSONField(default=list)
    comment = models.CharField(max_length=200, blank=True)
    lock_version = models.PositiveIntegerField(
        default=0, help_text="The object's lock_version after this save: finds what an editor started from."
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self):
        return f"{self.object_type} {self.object_id} at {self.created:%Y-%m-%d %H:%M}"


def page_contents():
    """The prefetches of everything an issue page shows: picks with papers, authors, figures."""
    return [
        Prefetch(
            "picks",
            queryset=Pick.objects.select_related("paper").prefetch_related(
                Prefetch(
                    "paper__authorships",
                    queryset=Authorship.objects.select_related("author").order_by("position"),
                ),
                Prefetch("figures", queryset=Figure.objects.order_by("position", "pk")),
            ),
        )
    ]
