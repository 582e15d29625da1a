"""The triage tables in the admin.

Decisions and their events are a read-only history here: every change goes
through the queue (triage/decisions.py), which checks the role and writes the
event that undo replays. Watchlists are each curator's own; ranker models come
from training and scores from scoring, never from a form.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html, format_html_join

from curation.pagination import EstimatedCountPaginator

from .models import PaperScore, RankerModel, TriageDecision, TriageEvent, WatchlistEntry
from .tasks import request_retrain


class ReadOnlyHistoryAdmin(admin.ModelAdmin):
    """Shown to curators and editors; nobody adds, changes or deletes rows from a form."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TriageDecision)
class TriageDecisionAdmin(ReadOnlyHistoryAdmin):
    list_display = ["paper", "issue", "state", "by", "at"]
    list_filter = ["state", "issue"]
    list_select_related = ["paper", "issue", "by"]
    search_fields = ["=paper__arxiv_id"]
    show_full_result_count = False


@admin.register(TriageEvent)
class TriageEventAdmin(ReadOnlyHistoryAdmin):
    list_display = ["at", "action", "paper", "issue", "user", "previous_state", "undone"]
    list_filter = ["action", "undone", "issue"]
    list_select_related = ["paper", "issue", "user"]
    search_fields = ["=paper__arxiv_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


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
    # The changelist carries the "Retrain now" button (templates/admin/triage/rankermodel/).
    change_list_template = "admin/triage/rankermodel/change_list.html"

    def has_add_permission(self, request):
        return False  # models come from training, never from a form

    def get_urls(self):
        return [
            path(
                "retrain/", self.admin_site.admin_view(self.retrain_view), name="triage_rankermodel_retrain"
            ),
            *super().get_urls(),
        ]

    def retrain_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            request_retrain(by=request.user)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Retraining queued: a new model and fresh scores follow in a moment.")
        return redirect("admin:triage_rankermodel_changelist")

    @admin.display(description="recall@5%")
    def recall_at_5pct(self, model):
        return model.metrics.get("recall_at_5pct", "—")

    @admin.display(description="median percentile")
    def median_percentile(self, model):
        return model.metrics.get("median_percentile", "—")

    @admin.display(description="metrics")
    def metrics_table(self, model):
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
