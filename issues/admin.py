from django.contrib import admin

from .models import Figure, Issue, Pick, Revision, TriageDecision


class PickInline(admin.StackedInline):
    model = Pick
    extra = 0
    autocomplete_fields = ["paper"]
    fields = [
        "position",
        "paper",
        "paper_version",
        "paper_title",
        "why",
        "key_insights",
        "code_url",
        "demo_url",
        "curator",
    ]
    ordering = ["position"]


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "period_start", "period_end", "publish_at", "published_at"]
    list_filter = ["status"]
    search_fields = ["title", "subtitle", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "published_at", "updated_at", "created"]
    list_select_related = ["editor"]
    inlines = [PickInline]
    fieldsets = [
        (None, {"fields": ["title", "subtitle", "slug", "byline", "editor"]}),
        ("Period", {"fields": ["period_start", "period_end"]}),
        ("Commentary", {"fields": ["intro", "outro"]}),
        ("Publication", {"fields": ["status", "publish_at", "published_at", "updated_at", "created"]}),
    ]


@admin.register(Pick)
class PickAdmin(admin.ModelAdmin):
    list_display = ["issue", "position", "paper", "curator", "updated_at"]
    list_filter = ["issue"]
    list_select_related = ["issue", "paper", "curator"]
    search_fields = ["paper__arxiv_id", "paper__title", "why", "key_insights"]
    autocomplete_fields = ["paper", "issue"]


@admin.register(Figure)
class FigureAdmin(admin.ModelAdmin):
    list_display = ["alt_text", "pick", "position"]
    list_select_related = ["pick__issue", "pick__paper"]
    raw_id_fields = ["pick"]


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["object_type", "object_id", "issue", "user", "created"]
    list_select_related = ["issue", "user"]
    list_filter = ["object_type"]


@admin.register(TriageDecision)
class TriageDecisionAdmin(admin.ModelAdmin):
    list_display = ["paper", "issue", "state", "by", "at"]
    list_filter = ["state", "issue"]
    list_select_related = ["paper", "issue", "by"]
    raw_id_fields = ["paper"]
