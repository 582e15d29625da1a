from django import forms
from django.contrib import admin

from curation.pagination import EstimatedCountPaginator

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


class WatchlistEntryForm(forms.ModelForm):
    class Meta:
        model = WatchlistEntry
        fields = ["kind", "term", "positive"]

    def clean(self):
        cleaned = super().clean()
        # The owner is not a form field, so Django cannot check the unique constraint itself.
        term, kind = (cleaned.get("term") or "").strip(), cleaned.get("kind")
        duplicates = WatchlistEntry.objects.filter(user=self.current_user, kind=kind, term__iexact=term)
        if term and duplicates.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"“{term}” is already on your watchlist.")
        cleaned["term"] = term
        return cleaned


@admin.register(WatchlistEntry)
class WatchlistEntryAdmin(admin.ModelAdmin):
    """Each curator keeps their own watchlist: they see, add and change only their entries."""

    form = WatchlistEntryForm

    list_display = ["term", "kind", "positive"]
    list_filter = ["kind", "positive"]
    list_select_related = ["user"]
    search_fields = ["term"]
    fields = ["kind", "term", "positive"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(user=request.user)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = request.user
        super().save_model(request, obj, form, change)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.current_user = request.user
        return form


@admin.register(RankerModel)
class RankerModelAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "kind",
        "trained_at",
        "training_size",
        "positives",
        "recall_at_5pct",
        "median_percentile",
        "active",
    ]
    readonly_fields = [
        "version",
        "kind",
        "trained_at",
        "training_size",
        "positives",
        "metrics_table",
        "active",
    ]
    exclude = ["metrics"]
    # The changelist carries the "Retrain now" button (templates/admin/papers/rankermodel/).
    change_list_template = "admin/papers/rankermodel/change_list.html"

    def has_add_permission(self, request):
        return False  # models come from training, never from a form

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "retrain/", self.admin_site.admin_view(self.retrain_view), name="papers_rankermodel_retrain"
            ),
            *super().get_urls(),
        ]

    def retrain_view(self, request):
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied
        from django.http import HttpResponseNotAllowed
        from django.shortcuts import redirect

        from .ranking import request_retrain

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            request_retrain(by=request.user)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Retraining queued: a new model and fresh scores follow in a moment.")
        return redirect("admin:papers_rankermodel_changelist")

    @admin.display(description="recall@5%")
    def recall_at_5pct(self, model):
        return model.metrics.get("recall_at_5pct", "—")

    @admin.display(description="median percentile")
    def median_percentile(self, model):
        return model.metrics.get("median_percentile", "—")

    @admin.display(description="metrics")
    def metrics_table(self, model):
        from django.utils.html import format_html, format_html_join

        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", sorted(model.metrics.items()))
        return format_html("<table>{}</table>", rows)


@admin.register(PaperScore)
class PaperScoreAdmin(admin.ModelAdmin):
    list_display = ["paper", "score", "ranker", "scored_at"]
    list_select_related = ["paper", "ranker"]
    search_fields = ["=paper__arxiv_id"]
    raw_id_fields = ["paper"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) over a million rows
