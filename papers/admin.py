from django.contrib import admin

from curation.pagination import EstimatedCountPaginator

from .models import Author, Authorship, HarvestRun, HarvestSource, Paper


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    extra = 0
    autocomplete_fields = ["author"]
    fields = ["position", "author", "affiliation"]


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["arxiv_id", "title", "primary_category", "submitted_at", "version", "has_code"]
    list_filter = ["primary_category", "links_set_by_editor", "submitted_at"]
    search_fields = ["=arxiv_id", "title", "authors_text"]
    date_hierarchy = "submitted_at"
    readonly_fields = ["created", "modified"]
    inlines = [AuthorshipInline]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) over a million rows
    fieldsets = [
        (
            "From arXiv (harvests update these)",
            {
                "fields": [
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
            },
        ),
        ("Links (editors own these)", {"fields": ["code_url", "project_url", "links_set_by_editor"]}),
        ("Record", {"fields": ["created", "modified"]}),
    ]

    @admin.display(boolean=True, description="code")
    def has_code(self, paper):
        return paper.has_code

    def save_model(self, request, obj, form, change):
        # An editor's link wins over detection from then on: harvests leave it alone.
        if change and {"code_url", "project_url"} & set(form.changed_data):
            obj.links_set_by_editor = True
        super().save_model(request, obj, form, change)


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "key"]
    readonly_fields = ["key", "slug"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) over a million rows


@admin.register(HarvestSource)
class HarvestSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "categories", "enabled", "high_water_mark"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    fields = ["name", "categories", "enabled", "high_water_mark"]
    actions = ["harvest_now"]

    @admin.action(description="Harvest now (from the high-water mark to today)")
    def harvest_now(self, request, queryset):
        from django.db import transaction

        from .tasks import harvest_source

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
        "requested_by", "resume_line", "started_at", "finished_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # a run is a record of what happened

    def get_urls(self):
        from django.urls import path

        from .harvest_admin import add_papers_view, coverage_view

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
