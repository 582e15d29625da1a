from django.contrib import admin
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from curation.roles import is_editor

from .compose_views import ComposeViews, FigureForm, IssueForm, PickForm, scheduled_label
from .editing import ISSUE_FIELDS, PICK_FIELDS, save_issue, update_pick
from .figures import make_renditions
from .models import Figure, Issue, Pick, Revision
from .publishing import publication_problems


class HttpsLinks:
    """Links typed without a scheme are https:// (Django 6's default, chosen now)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class FigureInline(HttpsLinks, admin.TabularInline):
    """Figures of a pick; uploads are checked by Pillow and get responsive sizes (issues/figures.py)."""

    model = Figure
    form = FigureForm
    extra = 1
    fields = ["image", "alt_text", "caption", "credit", "credit_url", "position"]
    ordering = ["position", "pk"]


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    """The composing page: the issue's text, its picks in order, readiness, publishing and history.

    Saves go through issues/editing.py and state changes through
    issues/publishing.py; this class never writes a status itself.
    """

    form = IssueForm
    change_form_template = "admin/issues/issue/change_form.html"
    list_display = [
        "title",
        "slug",
        "status",
        "period_start",
        "period_end",
        "publish_at",
        "published_at",
        "triage_links",
    ]
    list_filter = ["status"]
    search_fields = ["title", "subtitle", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["editor"]
    fieldsets = [
        (None, {"fields": ["title", "subtitle", "slug", "byline", "edit_lock"]}),
        ("Period", {"fields": ["period_start", "period_end"]}),
        (
            "Commentary",
            {
                "fields": ["intro", "outro"],
                "description": "Markdown. Cite with [^key] anywhere in the issue and define once, on a line "
                "of its own: [^key]: arXiv:1810.04805 “Title” by A, B, and C, 2018. — or "
                "[^key]: https://… citation text. Footnotes are numbered in reading order.",
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # The public URL is a contract once readers have seen it.
        return ["slug"] if obj is not None and obj.published_at else []

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None and obj.published_at else self.prepopulated_fields

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if allowed and obj is not None and obj.status in (Issue.Status.SCHEDULED, Issue.Status.PUBLISHED):
            # Corrections to scheduled and published issues are the editors'.
            return is_editor(request.user)
        return allowed

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ISSUE_FIELDS if name in form.cleaned_data}
        lock_version = form.cleaned_data.get("edit_lock")
        if lock_version is None:  # a form posted without its lock: the row was checked in clean()
            lock_version = obj.lock_version
        saved = save_issue(obj if change else Issue(), by=request.user, data=data, lock_version=lock_version)
        obj.pk, obj.lock_version = saved.pk, saved.lock_version
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        form.save_m2m()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            picks = list(obj.picks.select_related("paper").prefetch_related("figures").order_by("position"))
            picked = [p.paper_id for p in picks]
            context.update(
                {
                    "issue": obj,
                    "picks": picks,
                    # The triage app's decisions, through their reverse relation: the
                    # issues app reads them here without importing the app built on it.
                    "shortlist": obj.triage.filter(state="shortlisted")
                    .exclude(paper_id__in=picked)
                    .select_related("paper")
                    .order_by("at"),
                    "problems": publication_problems(obj),
                    "scheduled_label": scheduled_label(obj),
                    "user_is_editor": is_editor(request.user),
                    "conflict": getattr(context.get("adminform").form, "conflict", None)
                    if context.get("adminform")
                    else None,
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return ComposeViews(self).urls() + super().get_urls()

    @admin.display(description="triage")
    def triage_links(self, issue):
        return format_html(
            '<a href="{}">queue</a> · <a href="{}">shortlist</a>',
            reverse("triage:queue", args=[issue.pk]),
            reverse("triage:shortlist", args=[issue.pk]),
        )


@admin.register(Pick)
class PickAdmin(HttpsLinks, admin.ModelAdmin):
    """One pick's commentary, links and figures; saved through issues/editing.py."""

    form = PickForm
    change_form_template = "admin/issues/pick/change_form.html"
    inlines = [FigureInline]
    list_display = ["issue", "position", "paper", "curator", "updated_at"]
    list_filter = ["issue"]
    list_select_related = ["issue", "paper", "curator"]
    search_fields = ["paper__arxiv_id", "paper__title", "why", "key_insights"]
    readonly_fields = ["issue", "position", "paper", "newer_version"]
    fields = [
        "issue",
        "position",
        "paper",
        "newer_version",
        "paper_title",
        "paper_version",
        "why",
        "key_insights",
        "code_url",
        "demo_url",
        "edit_lock",
    ]

    def has_add_permission(self, request):
        return False  # picks are added from the issue page (shortlist or arXiv id)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if (
            allowed
            and obj is not None
            and obj.issue.status in (Issue.Status.SCHEDULED, Issue.Status.PUBLISHED)
        ):
            return is_editor(request.user)
        return allowed

    @admin.display(description="arXiv now")
    def newer_version(self, pick):
        if pick.has_newer_version:
            return format_html(
                "arXiv has v{} (“{}”); this commentary was written about v{}.",
                pick.paper.version,
                pick.paper.title,
                pick.paper_version,
            )
        return f"v{pick.paper.version}, the version written about."

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in PICK_FIELDS if name in form.cleaned_data}
        lock_version = form.cleaned_data.get("edit_lock")
        if lock_version is None:
            lock_version = obj.lock_version
        saved = update_pick(obj, by=request.user, data=data, lock_version=lock_version)
        obj.lock_version = saved.lock_version

    def save_formset(self, request, form, formset, change):
        # Figures: new uploads get their responsive sizes once, here.
        saved = formset.save()
        for figure in saved:
            if isinstance(figure, Figure) and "image" in next(
                (f.changed_data for f in formset.forms if f.instance.pk == figure.pk), []
            ):
                make_renditions(figure)

    def response_change(self, request, obj):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            return HttpResponseRedirect(reverse("admin:issues_issue_change", args=[obj.issue_id]))
        return super().response_change(request, obj)


@admin.register(Figure)
class FigureAdmin(HttpsLinks, admin.ModelAdmin):
    form = FigureForm
    list_display = ["alt_text", "pick", "position"]
    list_select_related = ["pick__issue", "pick__paper"]
    raw_id_fields = ["pick"]

    def has_add_permission(self, request):
        return False  # figures are added on their pick's page


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["object_type", "object_id", "issue", "user", "created"]
    list_select_related = ["issue", "user"]
    list_filter = ["object_type"]
