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
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from curation.roles import is_curator
from papers.adding import request_papers
from papers.arxiv_ids import parse_arxiv_id
from papers.models import Paper

from . import editing, export, images, preview, publishing
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
            images.validate_image(image)
        return image


# Helpers ------------------------------------------------------------------------


def scheduled_label(issue):
    """“scheduled for 6 April 2021, 09:00 UTC” in the admin's time zone; says so when it is overdue."""
    if issue.status != Issue.Status.SCHEDULED or not issue.publish_at:
        return ""
    when = timezone.localtime(issue.publish_at)
    label = f"scheduled for {when.day} {when:%B %Y, %H:%M} {when.tzname()}"
    if issue.publish_at <= timezone.now():
        # Past its time and still scheduled: the scheduler is not running, or publication was refused.
        label += " — overdue: not published yet"
    return label


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
            path(
                "<int:pk>/revoke-previews/", wrap(self.revoke_previews), name="issues_issue_revoke_previews"
            ),
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

    def _save_typed_text(self, request, issue):
        """Save what was typed in the issue form before a button acts on the issue.

        The status and pick buttons submit the whole issue form; acting and
        redirecting would silently throw the typed text away. So when the posted
        form differs from the stored issue it is saved first, through the admin's
        own change view (lock check, editing.save_issue, revision). Returns None
        when there was nothing to save or it saved, else the change form showing
        why not (a conflict, a bad value) with the typed text intact.
        """
        if "title" not in request.POST or not self.model_admin.has_change_permission(request, issue):
            return None  # no form content (the reorder script, a plain POST), or nothing this user may save
        form = self.model_admin.get_form(request, issue, change=True)(request.POST, instance=issue)
        if not set(form.changed_data) - {"edit_lock"}:
            return None
        change_url = reverse("admin:issues_issue_change", args=[issue.pk])
        response = self.model_admin.change_view(request, str(issue.pk), form_url=change_url)
        if response.status_code == 302:
            return None  # saved; the admin queued its "changed successfully" message
        messages.error(request, "Nothing else was done: your changes to the issue could not be saved.")
        return response

    @post_only
    def transition(self, request, pk, name):
        issue = self._issue(request, pk)
        unsaved = self._save_typed_text(request, issue)
        if unsaved is not None:
            return unsaved
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
        unsaved = self._save_typed_text(request, issue)
        if unsaved is not None:
            return unsaved
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
        unsaved = self._save_typed_text(request, issue)
        if unsaved is not None:
            return unsaved
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
        # Never arXiv inside the request: the paper is fetched by a queued run (in-process when embedded).
        _results, run = request_papers([text], by=request.user)
        paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
        if paper is not None:
            return paper
        run_link = format_html(
            '<a href="{}">harvest run #{}</a>',
            reverse("admin:papers_harvestrun_change", args=[run.pk]),
            run.pk,
        )
        if run.status in (run.Status.QUEUED, run.Status.RUNNING):
            messages.info(
                request,
                format_html(
                    "{} is not here yet: it is being fetched from arXiv ({}). Add it again once it has arrived.",
                    arxiv_id,
                    run_link,
                ),
            )
        else:
            messages.error(
                request,
                format_html(
                    "arXiv could not give us {} ({}): {}", arxiv_id, run_link, run.error or run.status
                ),
            )
        return None

    @post_only
    def remove_pick(self, request, pk, pick_pk):
        issue = self._issue(request, pk)
        unsaved = self._save_typed_text(request, issue)
        if unsaved is not None:
            return unsaved
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
        unsaved = self._save_typed_text(request, issue)
        if unsaved is not None:
            return unsaved
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

    @post_only
    def revoke_previews(self, request, pk):
        issue = self._issue(request, pk)
        unsaved = self._save_typed_text(request, issue)
        if unsaved is not None:
            return unsaved
        try:
            preview.revoke_preview_links(issue, by=request.user)
        except PermissionDenied as error:
            _problems(request, error)
        else:
            messages.success(
                request,
                "Every preview link of this issue sent so far no longer works. "
                "Create a new link to share the draft again.",
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
        revisions = list(issue.revisions.select_related("user", "pick__paper"))
        papers, titles = _history_papers(revisions)
        rows = []
        for revision, changes in editing.revision_diffs(revisions):
            rows.append(
                {
                    "revision": revision,
                    "label": _revision_label(revision, papers, titles),
                    "changes": [
                        {"field": f, "before": b, "after": a, "diff": inline_diff(b, a)}
                        if f != "pick_order"
                        else {
                            "field": "order of the picks",
                            "before": b,
                            "after": a,
                            "diff": order_diff(b, a, titles),
                        }
                        for f, b, a in changes
                    ],
                    "restorable": revision.object_type != "figure"
                    and bool(set(revision.data) & set(ISSUE_FIELDS + PICK_FIELDS + ["pick_order"])),
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


def _history_papers(revisions):
    """Which paper each pick in ``revisions`` is about, and the papers' titles.

    Picks are named by their paper in the history: positions change with every
    reorder, and a removed pick has none. Returns ({pick id: arXiv id},
    {arXiv id: title}), the titles in one query.
    """
    papers = {}
    for revision in revisions:
        if revision.pick is not None:
            papers[revision.pick_id] = revision.pick.paper.arxiv_id
        if revision.object_type == "pick" and revision.data.get("arxiv_id"):
            papers[revision.object_id] = revision.data["arxiv_id"]  # recorded at removal
    ids = set(papers.values())
    for revision in revisions:
        ids.update(revision.data.get("pick_order", []), revision.data.get("previous_order", []))
    return papers, dict(Paper.objects.filter(arxiv_id__in=ids).values_list("arxiv_id", "title"))


def _revision_label(revision, papers, titles):
    """ "Issue", "Pick “Title” (arXiv 2103.10360)" or "Figure of “Title”" for the history page."""
    if revision.object_type == "issue":
        return "Issue"
    pick_id = revision.pick_id if revision.object_type == "figure" else revision.object_id
    arxiv_id = papers.get(pick_id)
    if arxiv_id is None:
        return "Figure of a removed pick" if revision.object_type == "figure" else "A removed pick"
    title = titles.get(arxiv_id, arxiv_id)
    if revision.object_type == "figure":
        return f"Figure of “{title}”"
    return f"Pick “{title}” (arXiv {arxiv_id})"


def order_diff(before, after, titles):
    """A reorder as the new numbered list of papers, each moved one with the place it came from."""
    before = list(before or [])
    items = []
    for position, arxiv_id in enumerate(after or [], start=1):
        was = before.index(arxiv_id) + 1 if arxiv_id in before else None
        moved = format_html(" <ins>(was {})</ins>", was) if was and was != position else ""
        items.append((titles.get(arxiv_id, arxiv_id), arxiv_id, moved))
    return format_html(
        '<ol class="compose-order">{}</ol>',
        format_html_join("", "<li>{} <small>arXiv {}</small>{}</li>", items),
    )


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
