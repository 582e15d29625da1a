"""The composing admin: issues, picks, figures, their history, and the API's tokens.

Every save and delete here goes through the function that owns the change
(issues/editing.py, issues/figures.py, issues/publishing.py), which checks the
role and the issue's state and writes the Revision. The permission methods
below only decide what each person is shown: scheduled and published issues
are the editors' to correct, so curators see them read-only.
"""

from django.contrib import admin, messages
from django.db import models, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from curation.roles import is_editor

from .compose_views import ComposeViews, FigureForm, IssueForm, PickForm, scheduled_label
from .editing import ISSUE_FIELDS, PICK_FIELDS, remove_pick, save_issue, update_pick
from .figures import FIGURE_FIELDS, add_figure, remove_figure, update_figure
from .heartbeat import scheduler_status
from .models import Figure, Issue, Pick, Revision
from .publishing import publication_problems

# The states in which an issue is public (or about to be): only editors change it then.
CORRECTED_BY_EDITORS = (Issue.Status.SCHEDULED, Issue.Status.PUBLISHED)


def may_correct(request, issue):
    """Whether ``request.user`` may change what belongs to ``issue`` (None: no particular issue)."""
    return issue is None or issue.status not in CORRECTED_BY_EDITORS or is_editor(request.user)


class HttpsLinks:
    """Links typed without a scheme are https:// (Django 6's default, chosen now)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class FigureInline(HttpsLinks, admin.TabularInline):
    """Figures of a pick; saved through issues/figures.py by ``PickAdmin.save_formset``."""

    model = Figure
    form = FigureForm
    extra = 1
    fields = ["image", "alt_text", "caption", "credit", "credit_url", "position"]
    ordering = ["position", "pk"]

    # ``obj`` is the pick whose page shows the inline.
    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and may_correct(request, obj and obj.issue)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_correct(request, obj and obj.issue)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and may_correct(request, obj and obj.issue)


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
        return super().has_change_permission(request, obj) and may_correct(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A public issue is unpublished first (issues/publishing.py), never deleted from under readers.
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status not in CORRECTED_BY_EDITORS)

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
                    "scheduler": scheduler_status(),
                    "user_is_editor": is_editor(request.user),
                    "conflict": getattr(context.get("adminform").form, "conflict", None)
                    if context.get("adminform")
                    else None,
                }
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        scheduler = scheduler_status()
        if scheduler.stale:
            messages.warning(request, scheduler.message)
        return super().changelist_view(request, extra_context)

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

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("issue")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_correct(request, obj and obj.issue)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and may_correct(request, obj and obj.issue)

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
        # Figures change through issues/figures.py (role, issue state, revision, renditions on
        # commit), never formset.save(). The lists are what the admin's change message reads.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = set(formset.deleted_forms)
        for figure_form in formset.initial_forms:
            if figure_form in deleted:
                remove_figure(figure_form.instance, by=request.user)
                formset.deleted_objects.append(figure_form.instance)
            elif figure_form.has_changed():
                figure = update_figure(figure_form.instance, by=request.user, **_figure_change(figure_form))
                formset.changed_objects.append((figure, figure_form.changed_data))
        for figure_form in formset.extra_forms:
            if figure_form.has_changed() and figure_form not in deleted:
                cleaned = figure_form.cleaned_data
                figure = add_figure(
                    form.instance,
                    by=request.user,
                    image=cleaned["image"],
                    **{name: cleaned[name] for name in FIGURE_FIELDS if cleaned.get(name) is not None},
                )
                formset.new_objects.append(figure)

    def delete_model(self, request, obj):
        remove_pick(obj, by=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        # The changelist's "delete selected": each pick through remove_pick, all or none.
        for pick in queryset:
            remove_pick(pick, by=request.user)

    def response_change(self, request, obj):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            # Back to the issue, saying so: the admin's own message is skipped on this path.
            messages.success(request, f"Saved pick {obj.position}, “{obj.title}”.")
            return HttpResponseRedirect(reverse("admin:issues_issue_change", args=[obj.issue_id]))
        return super().response_change(request, obj)


def _figure_change(figure_form):
    """The ``update_figure`` arguments for what a figure form changed."""
    changed = figure_form.changed_data
    return {
        "data": {name: figure_form.cleaned_data[name] for name in FIGURE_FIELDS if name in changed},
        "image": figure_form.cleaned_data["image"] if "image" in changed else None,
    }


@admin.register(Figure)
class FigureAdmin(HttpsLinks, admin.ModelAdmin):
    """One figure; saved and removed through issues/figures.py, like the pick page's figures."""

    form = FigureForm
    list_display = ["alt_text", "pick", "position"]
    list_select_related = ["pick__issue", "pick__paper"]
    fields = ["pick", "image", "alt_text", "caption", "credit", "credit_url", "position"]
    readonly_fields = ["pick"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("pick__issue", "pick__paper")

    def has_add_permission(self, request):
        return False  # figures are added on their pick's page

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_correct(request, obj and obj.pick.issue)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and may_correct(request, obj and obj.pick.issue)

    def save_model(self, request, obj, form, change):
        update_figure(obj, by=request.user, **_figure_change(form))

    def delete_model(self, request, obj):
        remove_figure(obj, by=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for figure in queryset:
            remove_figure(figure, by=request.user)


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    """The history of issues, picks and figures: written by the editing functions, read here."""

    list_display = ["object_type", "object_id", "issue", "comment", "user", "created"]
    list_select_related = ["issue", "user"]
    list_filter = ["object_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# API tokens let a script act as their user, with all of that user's rights: only a
# superuser sees, creates or revokes them. DRF's own admin goes by model permissions,
# so any staff account granted them could mint a token for a superuser.
admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class APITokenAdmin(TokenAdmin):
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)
