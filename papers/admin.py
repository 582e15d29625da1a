from django.contrib import admin
from django.db import models, transaction
from django.urls import path

from curation.pagination import EstimatedCountPaginator
from curation.roles import is_editor

from .harvest_admin import add_papers_view, coverage_view
from .ingest import papers_updated
from .links import set_paper_links
from .models import Author, Authorship, HarvestRun, HarvestSource, Paper
from .tasks import harvest_source

# What arXiv owns: harvests write these, nobody edits them here.
ARXIV_FIELDS = [
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "primary_category",
    "categories",
    "submitted_at",
    "updated_at",
    "comment",
    "journal_ref",
    "doi",
]
LINK_FIELDS = ["code_url", "project_url"]


class AuthorshipInline(admin.TabularInline):
    """A paper's authors as arXiv lists them: read-only, harvests keep them."""

    model = Authorship
    extra = 0
    fields = ["position", "author", "affiliation"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    """A paper as arXiv gives it; editors change only its links, through papers.links.set_paper_links."""

    list_display = ["arxiv_id", "title", "primary_category", "submitted_at", "version", "has_code"]
    list_filter = ["primary_category", "links_set_by_editor", "submitted_at"]
    search_fields = ["=arxiv_id", "title", "authors_text"]
    date_hierarchy = "submitted_at"
    readonly_fields = [*ARXIV_FIELDS, "links_set_by_editor", "created", "modified"]
    inlines = [AuthorshipInline]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) over a million rows
    fieldsets = [
        ("From arXiv (harvests update these)", {"fields": ARXIV_FIELDS}),
        (
            "Links (editors own these)",
            {
                "fields": [*LINK_FIELDS, "links_set_by_editor"],
                "description": "Once an editor saves the links, harvests stop changing them.",
            },
        ),
        ("Record", {"fields": ["created", "modified"]}),
    ]

    @admin.display(boolean=True, description="code")
    def has_code(self, paper):
        return paper.has_code

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")  # a link typed without a scheme (Django 6's default)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return False  # papers come from arXiv: Harvest runs › Add papers by id

    def has_change_permission(self, request, obj=None):
        # Curators see papers; editors set their links.
        return super().has_change_permission(request, obj) and is_editor(request.user)

    def save_model(self, request, obj, form, change):
        if {"code_url", "project_url"} & set(form.changed_data):
            saved = set_paper_links(
                obj,
                by=request.user,
                code_url=form.cleaned_data["code_url"],
                project_url=form.cleaned_data["project_url"],
            )
            obj.links_set_by_editor = saved.links_set_by_editor


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "key"]
    readonly_fields = ["key", "slug"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) over a million rows

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Published pages name the author: stale now if a published issue picked one of their papers.
        papers_updated.send(sender=Paper, paper_ids=list(obj.papers.values_list("pk", flat=True)))


@admin.register(HarvestSource)
class HarvestSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "categories", "enabled", "high_water_mark"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    fields = ["name", "categories", "enabled", "high_water_mark"]
    actions = ["harvest_now"]

    @admin.action(description="Harvest now (from the high-water mark to today)")
    def harvest_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for source_id in ids:
            # Queued after this request commits; the arxiv worker runs it (in-process when embedded).
            transaction.on_commit(lambda source_id=source_id: harvest_source.delay(source_id))
        self.message_user(request, f"Harvest queued for {len(ids)} source(s); see Harvest runs for progress.")


@admin.register(HarvestRun)
class HarvestRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "kind",
        "source",
        "status",
        "window_start",
        "window_end",
        "pages",
        "fetched",
        "created_count",
        "updated_count",
        "unchanged_count",
        "retries",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "kind", "source"]
    list_select_related = ["source"]
    date_hierarchy = "started_at"
    readonly_fields = [
        "kind", "source", "query", "window_start", "window_end", "status", "pages", "fetched",
        "created_count", "updated_count", "unchanged_count", "retries", "error", "unknown_days",
        "skipped_entries", "trimmed_entries", "entry_problems",
        "requested_by", "resume_line", "started_at", "heartbeat_at", "finished_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a run is a record of what happened

    def get_urls(self):
        return [
            path(
                "coverage/",
                self.admin_site.admin_view(lambda request: coverage_view(self, request)),
                name="papers_harvestrun_coverage",
            ),
            path(
                "add-papers/",
                self.admin_site.admin_view(lambda request: add_papers_view(self, request)),
                name="papers_harvestrun_add_papers",
            ),
            *super().get_urls(),
        ]
