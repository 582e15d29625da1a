from django.contrib import admin

from .models import (
    Author,
    Authorship,
    HarvestRun,
    HarvestSource,
    Paper,
    PaperScore,
    RankerModel,
    WatchlistEntry,
)


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


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "key"]
    readonly_fields = ["key", "slug"]
    show_full_result_count = False


@admin.register(HarvestSource)
class HarvestSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "categories", "enabled", "high_water_mark"]
    list_filter = ["enabled"]
    search_fields = ["name"]


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

    def has_add_permission(self, request):
        return False


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(admin.ModelAdmin):
    list_display = ["term", "kind", "positive", "user"]
    list_filter = ["kind", "positive"]
    list_select_related = ["user"]
    search_fields = ["term"]


@admin.register(RankerModel)
class RankerModelAdmin(admin.ModelAdmin):
    list_display = ["version", "kind", "trained_at", "training_size", "positives", "active"]
    readonly_fields = ["version", "kind", "trained_at", "training_size", "positives", "metrics", "active"]


@admin.register(PaperScore)
class PaperScoreAdmin(admin.ModelAdmin):
    list_display = ["paper", "score", "ranker", "scored_at"]
    list_select_related = ["paper", "ranker"]
    search_fields = ["=paper__arxiv_id"]
    raw_id_fields = ["paper"]
    show_full_result_count = False
