"""The admin's composing screens: forms and the views behind the issue page's buttons.

Thin callers: every change goes through issues/editing.py, issues/figures.py
or issues/publishing.py, which check roles and lock rows themselves. Errors
come back as messages or form errors with everything the editor typed kept.
"""

import difflib
import json
from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from curation.roles import is_curator
from papers.arxiv_ids import parse_arxiv_id
from papers.models import Paper

from . import editing, export, figures, preview, publishing
from .editing import ISSUE_FIELDS, PICK_FIELDS, EditConflict
from .markdown import render_issue
from .models import Figure, Issue, Pick, Revision

# Forms ------------------------------------------------------------------------


def https_links(db_field, **kwargs):
    """Links typed without a scheme are https:// (Django 6's default, chosen now)."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class LockedForm(forms.ModelForm):
    """A form that carries the lock_version it was opened at and refuses a stale save.

    The check runs inside the admin's transaction with the row locked, so the
    save that follows cannot race another one; the refused form is shown
    again with the editor's text and what changed meanwhile.
    """

    edit_lock = forms.IntegerField(widget=forms.HiddenInput, required=False)
    conflict = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["edit_lock"] = self.instance.lock_version

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk:
            return cleaned
        current = type(self.instance).objects.select_for_update().get(pk=self.instance.pk)
        submitted = cleaned.get("edit_lock")
        if submitted is not None and submitted != current.lock_version:
            fields = ISSUE_FIELDS if isinstance(current, Issue) else PICK_FIELDS
            try:
                editing._conflict(
                    current, fields, {f: cleaned.get(f) for f in fields if f in cleaned}, submitted
                )
            except EditConflict as conflict:
                self.conflict = conflict
                # Saving again is a deliberate choice made after seeing the changes.
                data = self.data.copy()
                data["edit_lock"] = current.lock_version
                self.data = data
                raise forms.ValidationError(str(conflict), code="conflict") from None
        return cleaned


class IssueForm(LockedForm):
    class Meta:
        model = Issue
        fields = ["title", "subtitle", "slug", "period_start", "period_end", "byline", "intro", "outro"]
        widgets = {
            "intro": forms.Textarea(attrs={"rows": 8, "class": "compose-markdown"}),
            "outro": forms.Textarea(attrs={"rows": 4, "class": "compose-markdown"}),
        }


class PickForm(LockedForm):
    class Meta:
        model = Pick
        formfield_callback = https_links
        fields = ["paper_title", "paper_version", "why", "key_insights", "code_url", "demo_url"]
        widgets = {
            "paper_title": forms.TextInput(attrs={"size": 90}),
            "why": forms.Textarea(attrs={"rows": 8, "class": "compose-markdown"}),
            "key_insights": forms.Textarea(attrs={"rows": 10, "class": "compose-markdown"}),
        }
        labels = {"paper_title": "Title written about", "paper_version": "Version written about"}


class FigureForm(forms.ModelForm):
    class Meta:
        model = Figure
        formfield_callback = https_links
        fields = ["image", "alt_text", "caption", "credit", "credit_url", "position"]

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and hasattr(image, "content_type"):  # a new upload, not the stored file
            figures.validate_image(image)
        return image


# Helpers ------------------------------------------------------------------------


def scheduled_label(issue):
    """“scheduled for 6 April 2021, 09:00 UTC” in the admin's time zone."""
    if issue.status != Issue.Status.SCHEDULED or not issue.publish_at:
        return ""
    when = timezone.localtime(issue.publish_at)
    return f"scheduled for {when.day} {when:%B %Y, %H:%M} {when.tzname()}"


def inline_diff(before, after):
    """Word-level diff as HTML: removed words in <del>, added ones in <ins>."""
    a, b = str(before or "").split(" "), str(after or "").split(" ")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(format_html("<del>{}</del>", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(format_html("<ins>{}</ins>", " ".join(b[j1:j2])))
    return mark_safe(" ".join(out))


def _back(issue):
    return HttpResponseRedirect(reverse("admin:issues_issue_change", args=[issue.pk]))


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def _problems(request, error):
    if isinstance(error, publishing.TransitionError):
        for problem in error.problems:
            messages.error(request, problem)
    elif isinstance(error, ValidationError):
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(error))


def _time_from_input(value):
    """A datetime-local value in the admin's time zone; None when empty or malformed."""
    try:
        when = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return timezone.make_aware(when) if timezone.is_naive(when) else when


# Views ------------------------------------------------------------------------


def post_only(view):
    """require_POST for a method: the actions change state, so never on a GET."""

    def wrapped(self, request, *args, **kwargs):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(self, request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


class ComposeViews:
    """The issue page's actions, as admin views (wrapped by ``admin_view`` for login and staff)."""

    def __init__(self, model_admin):
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site

    def urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/transition/<str:name>/", wrap(self.transition), name="issues_issue_transition"),
            path("<int:pk>/reorder/", wrap(self.reorder), name="issues_issue_reorder"),
            path("<int:pk>/add-pick/", wrap(self.add_pick), name="issues_issue_add_pick"),
            path(
                "<int:pk>/remove-pick/<int:pick_pk>/", wrap(self.remove_pick), name="issues_issue_remove_pick"
            ),
            path("<int:pk>/preview/", wrap(self.live_preview), name="issues_issue_live_preview"),
            path("add/preview/", wrap(self.live_preview), name="issues_issue_add_preview"),
            path("<int:pk>/preview-link/", wrap(self.preview_link), name="issues_issue_preview_link"),
            path("<int:pk>/export/<str:fmt>/", wrap(self.export), name="issues_issue_export"),
            path("<int:pk>/revisions/", wrap(self.history), name="issues_issue_revisions"),
            path(
                "<int:pk>/revisions/<int:revision_pk>/restore/",
                wrap(self.restore),
                name="issues_issue_restore",
            ),
            path("pick/<int:pick_pk>/preview/", wrap(self.pick_preview), name="issues_pick_live_preview"),
        ]

    def _issue(self, request, pk):
        issue = get_object_or_404(Issue, pk=pk)
        if not self.model_admin.has_view_permission(request, issue):
            raise PermissionDenied
        return issue

    @post_only
    def transition(self, request, pk, name):
        issue = self._issue(request, pk)
        try:
            if name == "submit":
                publishing.submit_for_review(issue, by=request.user)
                messages.success(request, "Submitted for review.")
            elif name == "schedule":
                when = _time_from_input(request.POST.get("publish_at_input"))
                issue = publishing.schedule_issue(issue, by=request.user, publish_at=when)
                messages.success(request, f"The issue is {scheduled_label(issue)}.")
            elif name == "publish":
                issue = publishing.publish_issue(issue, by=request.user)
                messages.success(
                    request, format_html('Published: <a href="{0}">{0}</a>', issue.get_absolute_url())
                )
            elif name == "unpublish":
                publishing.unpublish_issue(issue, by=request.user)
                messages.success(request, "The issue is a draft again and no longer public.")
            else:
                messages.error(request, f"Unknown action “{name}”.")
        except (publishing.TransitionError, PermissionDenied) as error:
            _problems(request, error)
        return _back(issue)

    @post_only
    def reorder(self, request, pk):
        issue = self._issue(request, pk)
        order = list(issue.picks.order_by("position").values_list("pk", flat=True))
        try:
            if request.POST.get("order"):
                order = [int(x) for x in request.POST["order"].split(",") if x.strip()]
            elif request.POST.get("move"):
                pick_pk, direction = request.POST["move"].split(":")
                i = order.index(int(pick_pk))
                j = i - 1 if direction == "up" else i + 1
                if 0 <= j < len(order):
                    order[i], order[j] = order[j], order[i]
            editing.reorder_picks(issue, order, by=request.user)
        except (ValueError, ValidationError, PermissionDenied) as error:
            if _wants_json(request):
                return JsonResponse(
                    {"error": "; ".join(getattr(error, "messages", [str(error)]))}, status=400
                )
            _problems(request, error if not isinstance(error, ValueError) else ValidationError("Bad order."))
            return _back(issue)
        if _wants_json(request):
            return JsonResponse(
                {"order": list(issue.picks.order_by("position").values_list("pk", flat=True))}
            )
        messages.success(request, "Picks reordered.")
        return _back(issue)

    @post_only
    def add_pick(self, request, pk):
        issue = self._issue(request, pk)
        paper = None
        try:
            if request.POST.get("shortlisted"):
                paper = get_object_or_404(Paper, pk=request.POST["shortlisted"])
            else:
                text = request.POST.get("arxiv", "").strip()
                arxiv_id = parse_arxiv_id(text).id
                paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
                if paper is None:
                    paper = self._fetch(request, text, arxiv_id)
            if paper is not None:
                pick = editing.add_pick(issue, paper, by=request.user)
                messages.success(request, f"Added pick {pick.position}: {pick.title}.")
        except ValueError as error:  # not an arXiv id
            messages.error(request, str(error))
        except (ValidationError, PermissionDenied) as error:
            _problems(request, error)
        return _back(issue)

    def _fetch(self, request, text, arxiv_id):
        try:
            from papers.harvest import add_papers_by_id
        except ImportError:
            messages.error(
                request, f"{arxiv_id} is not in the database and fetching from arXiv is not available."
            )
            return None
        results = add_papers_by_id([text], by=request.user)
        failed = [r for r in results if r.get("status") == "error"]
        if failed:
            messages.error(
                request, f"arXiv could not give us {arxiv_id}: {failed[0].get('message') or 'unknown error'}."
            )
            return None
        return Paper.objects.filter(arxiv_id=arxiv_id).first()

    @post_only
    def remove_pick(self, request, pk, pick_pk):
        issue = self._issue(request, pk)
        pick = get_object_or_404(Pick, pk=pick_pk, issue=issue)
        try:
            editing.remove_pick(pick, by=request.user)
            messages.success(request, f"Removed {pick.title}. Its text is kept in the history.")
        except (ValidationError, PermissionDenied) as error:
            _problems(request, error)
        return _back(issue)

    @post_only
    def live_preview(self, request, pk=None):
        """The posted, unsaved issue form rendered with the public template; nothing is kept."""
        issue = self._issue(request, pk) if pk else None
        if not is_curator(request.user):
            raise PermissionDenied
        values = {f: request.POST.get(f, "") for f in ["title", "subtitle", "byline", "intro", "outro"]}
        return _render_rolled_back(request, issue, values, None, {})

    @post_only
    def pick_preview(self, request, pick_pk):
        pick = get_object_or_404(Pick, pk=pick_pk)
        self._issue(request, pick.issue_id)
        if not is_curator(request.user):
            raise PermissionDenied
        values = {
            f: request.POST.get(f, getattr(pick, f))
            for f in ["paper_title", "why", "key_insights", "code_url", "demo_url"]
        }
        return _render_rolled_back(request, pick.issue, {}, pick, values)

    @post_only
    def preview_link(self, request, pk):
        issue = self._issue(request, pk)
        try:
            url = preview.preview_url(issue, by=request.user, request=request)
        except PermissionDenied as error:
            _problems(request, error)
        else:
            days = preview.MAX_AGE // 86400
            messages.success(
                request,
                format_html(
                    'Preview link (valid {} days, no login needed): <a href="{}" class="preview-link">{}</a>',
                    days,
                    url,
                    url,
                ),
            )
        return _back(issue)

    def export(self, request, pk, fmt):
        issue = self._issue(request, pk)
        if fmt == "md":
            body, kind, ext = export.export_markdown(issue), "text/markdown; charset=utf-8", "md"
        elif fmt == "bib":
            body, kind, ext = export.export_bibtex(issue), "application/x-bibtex; charset=utf-8", "bib"
        elif fmt == "json":
            body = json.dumps(export.export_json(issue), ensure_ascii=False, indent=2)
            kind, ext = "application/json", "json"
        else:
            return HttpResponse("Unknown export format: use md, bib or json.", status=404)
        response = HttpResponse(body, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="{issue.slug}.{ext}"'
        return response

    def history(self, request, pk):
        issue = self._issue(request, pk)
        revisions = issue.revisions.select_related("user", "pick")
        positions = dict(issue.picks.values_list("pk", "position"))
        rows = []
        for revision, changes in editing.revision_diffs(revisions):
            rows.append(
                {
                    "revision": revision,
                    "label": "Issue"
                    if revision.object_type == "issue"
                    else f"Pick {positions.get(revision.object_id, '(removed)')}",
                    "changes": [
                        {"field": f, "before": b, "after": a, "diff": inline_diff(b, a)}
                        for f, b, a in changes
                    ],
                    "restorable": bool(set(revision.data) & set(ISSUE_FIELDS + PICK_FIELDS + ["pick_order"])),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": Issue._meta,
            "issue": issue,
            "rows": rows,
            "title": f"History of “{issue.title}”",
        }
        return TemplateResponse(request, "admin/issues/issue/revisions.html", context)

    @post_only
    def restore(self, request, pk, revision_pk):
        issue = self._issue(request, pk)
        revision = get_object_or_404(Revision, pk=revision_pk, issue=issue)
        try:
            editing.restore_revision(revision, by=request.user)
            messages.success(
                request, f"Restored the revision of {revision.created:%Y-%m-%d %H:%M} as a new revision."
            )
        except (ValidationError, PermissionDenied) as error:
            _problems(request, error)
        return HttpResponseRedirect(reverse("admin:issues_issue_revisions", args=[issue.pk]))


def _render_rolled_back(request, issue, issue_values, pick, pick_values):
    """Apply the unsaved values, render the public page, and roll everything back."""
    with transaction.atomic():
        if issue is None:
            today = timezone.localdate()
            issue = Issue.objects.create(
                slug=f"preview-{timezone.now():%H%M%S%f}", period_start=today, period_end=today
            )
        else:
            issue = Issue.objects.select_for_update().get(pk=issue.pk)
        for name, value in issue_values.items():
            setattr(issue, name, value)
        issue.save()
        if pick is not None:
            Pick.objects.filter(pk=pick.pk).update(**pick_values)
        render_issue(issue)
        page = preview.page_queryset().get(pk=issue.pk)
        note = f"pick {pick.position}, unsaved" if pick is not None else "unsaved changes"
        response = preview.render_preview(request, page, note=note)
        transaction.set_rollback(True)
    return response
