"""Editing an issue and its picks: the one path every save takes.

Every save is atomic, checks the caller's role, refuses a stale edit
(optimistic locking on ``lock_version``) with what changed meanwhile,
records a Revision (who, when, which fields) and re-renders the issue's
Markdown, because footnotes are numbered across the whole issue: an edit of
pick 3 can renumber the outro.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from curation.roles import require_curator, require_editor

from .markdown import render_issue
from .models import Issue, Pick, Revision
from .page_cache import bump_publication_version

ISSUE_FIELDS = ["title", "subtitle", "slug", "period_start", "period_end", "byline", "intro", "outro"]
PICK_FIELDS = ["why", "key_insights", "code_url", "demo_url", "paper_title", "paper_version"]
# Shifts positions out of the way while reordering: (issue, position) is unique.
_POSITION_OFFSET = 10000


class EditConflict(Exception):
    """Someone saved the same issue or pick since this editor opened it.

    ``changes`` lists what changed meanwhile (field, the value now stored, who
    and when); ``submitted`` is the refused edit, kept whole so nothing is
    lost; ``lock_version`` is the current one, to save again on purpose.
    """

    def __init__(self, obj, changes, submitted, lock_version, editors):
        self.object = obj
        self.changes = changes
        self.submitted = submitted
        self.lock_version = lock_version
        self.editors = editors
        fields = ", ".join(change["field"] for change in changes) or "nothing you can see"
        who = ", ".join(editors) or "someone"
        super().__init__(
            f"{who} saved this {obj._meta.verbose_name} after you opened it (changed: {fields}). "
            "Your edit was not saved; it is kept below. Compare, then save again."
        )


def _json_value(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def snapshot(obj, fields):
    return {name: _json_value(getattr(obj, name)) for name in fields}


def _apply(obj, fields, data):
    """Set ``data``'s values for ``fields`` on ``obj``; returns the names that changed."""
    changed = []
    for name in fields:
        if name not in data:
            continue
        model_field = obj._meta.get_field(name)
        value = data[name]
        if value is None and not model_field.null:
            value = "" if model_field.empty_strings_allowed else value
        value = model_field.to_python(value)
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _record(issue, obj, fields, changed, user, comment=""):
    return Revision.objects.create(
        issue=issue,
        pick=obj if isinstance(obj, Pick) else None,
        object_type="pick" if isinstance(obj, Pick) else "issue",
        object_id=obj.pk,
        data=snapshot(obj, fields),
        changed_fields=changed,
        comment=comment,
        lock_version=obj.lock_version,
        user=user,
    )


def _conflict(current, fields, data, lock_version):
    object_type = "pick" if isinstance(current, Pick) else "issue"
    revisions = Revision.objects.filter(object_type=object_type, object_id=current.pk)
    # What the editor started from: the fields as of their lock_version.
    base = {}
    for data_then in (
        revisions.filter(lock_version__lte=lock_version).order_by("pk").values_list("data", flat=True)
    ):
        base.update({f: v for f, v in data_then.items() if f in fields})
    now = snapshot(current, fields)
    if base:
        differ = [f for f in fields if f in base and base[f] != now[f]]
    else:
        differ = [f for f in fields if f in data and _json_value(data[f]) != now[f]]
    later = revisions.filter(lock_version__gt=lock_version).select_related("user").order_by("pk")
    editors = []
    last = {}
    for revision in later:
        name = revision.user.get_username() if revision.user else "someone"
        if name not in editors:
            editors.append(name)
        for f in revision.changed_fields:
            last[f] = (name, revision.created)
    changes = [
        {
            "field": f,
            "theirs": now[f],
            "yours": _json_value(data.get(f)),
            "by": last.get(f, ("someone", None))[0],
            "at": last.get(f, (None, None))[1],
        }
        for f in differ
    ]
    raise EditConflict(current, changes, dict(data), current.lock_version, editors)


def require_may_edit(issue, user):
    require_curator(user, "edit an issue")
    if issue.status in (Issue.Status.SCHEDULED, Issue.Status.PUBLISHED):
        # Scheduled and published issues are the editors' to correct.
        require_editor(user, "correct a scheduled or published issue")


def touch_if_public(issue):
    """A correction to a published issue shows readers an "updated" time, and shows at once:
    every cached page and API answer is retired in the same transaction (issues/page_cache.py)."""
    if issue.status == Issue.Status.PUBLISHED:
        issue.updated_at = timezone.now()
        issue.save(update_fields=["updated_at"])
        bump_publication_version()


@transaction.atomic
def save_issue(issue, *, by, data, lock_version):
    """Create (``issue.pk`` is None) or update an issue from ``data``. Returns the saved issue.

    Raises EditConflict for a stale ``lock_version``, ValidationError for bad
    input (the slug after publication, an inverted period, a taken slug),
    PermissionDenied for the wrong role.
    """
    if issue.pk is None:
        require_curator(by, "create an issue")
        issue = Issue(editor=by)
        _apply(issue, ISSUE_FIELDS, data)
        issue.full_clean(exclude=["editor"])
        issue.save()
        render_issue(issue)
        _record(issue, issue, ISSUE_FIELDS, [f for f in ISSUE_FIELDS if f in data], by, "created")
        return issue

    current = Issue.objects.select_for_update().get(pk=issue.pk)
    require_may_edit(current, by)
    if current.lock_version != lock_version:
        _conflict(current, ISSUE_FIELDS, data, lock_version)
    if current.published_at and "slug" in data and data["slug"] != current.slug:
        raise ValidationError({"slug": "The slug is frozen: the issue has been published at this URL."})
    changed = _apply(current, ISSUE_FIELDS, data)
    if not changed:
        return current
    current.full_clean(exclude=["editor"])
    current.lock_version += 1
    if current.status == Issue.Status.PUBLISHED:
        current.updated_at = timezone.now()
        bump_publication_version()
    current.save()
    render_issue(current)
    _record(current, current, ISSUE_FIELDS, changed, by)
    return current


@transaction.atomic
def add_pick(issue, paper, *, by, curator=None, **fields):
    """Add ``paper`` as the issue's last pick; returns the Pick.

    ``curator`` is credited with the pick (default ``by``), e.g. whoever shortlisted it.

    Code and demo links start from the paper's detected links; the paper's
    version and title are kept as the ones the commentary is written about.
    """
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    require_may_edit(issue, by)
    if issue.picks.filter(paper=paper).exists():
        raise ValidationError(f"{paper.arxiv_id} is already a pick of this issue.")
    position = (issue.picks.aggregate(last=Max("position"))["last"] or 0) + 1
    pick = Pick(
        issue=issue,
        paper=paper,
        position=position,
        code_url=paper.code_url,
        demo_url=paper.project_url,
        paper_version=paper.version,
        paper_title=paper.title,
        curator=curator or by,
    )
    _apply(pick, PICK_FIELDS, fields)
    pick.full_clean(exclude=["issue", "paper", "curator"], validate_unique=False)
    pick.save()
    _record(issue, pick, PICK_FIELDS, [f for f in PICK_FIELDS if getattr(pick, f)], by, "added")
    touch_if_public(issue)
    render_issue(issue)
    pick.refresh_from_db()
    return pick


@transaction.atomic
def update_pick(pick, *, by, data, lock_version):
    """Save the commentary and links of ``pick``; returns the saved Pick (EditConflict when stale)."""
    issue = Issue.objects.select_for_update().get(pk=pick.issue_id)
    require_may_edit(issue, by)
    current = Pick.objects.select_for_update().select_related("paper").get(pk=pick.pk)
    if current.lock_version != lock_version:
        _conflict(current, PICK_FIELDS, data, lock_version)
    changed = _apply(current, PICK_FIELDS, data)
    if not changed:
        return current
    current.full_clean(exclude=["issue", "paper", "curator"], validate_unique=False)
    current.lock_version += 1
    current.save()
    _record(issue, current, PICK_FIELDS, changed, by)
    touch_if_public(issue)
    render_issue(issue)
    current.refresh_from_db()
    return current


@transaction.atomic
def reorder_picks(issue, pick_ids, *, by):
    """Put the issue's picks in the order of ``pick_ids`` (every pick, once). Returns the picks in order."""
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    require_may_edit(issue, by)
    picks = {p.pk: p for p in issue.picks.select_related("paper")}
    pick_ids = [int(pk) for pk in pick_ids]
    if sorted(pick_ids) != sorted(picks):
        raise ValidationError("The new order must list every pick of the issue exactly once.")
    before = [picks[pk].paper.arxiv_id for pk in sorted(picks, key=lambda pk: picks[pk].position)]
    ordered = [picks[pk] for pk in pick_ids]
    after = [p.paper.arxiv_id for p in ordered]
    if before == after:
        return ordered
    # Two steps so no two picks share a position at any moment.
    for index, pick in enumerate(ordered, start=1):
        pick.position = _POSITION_OFFSET + index
    Pick.objects.bulk_update(ordered, ["position"])
    for index, pick in enumerate(ordered, start=1):
        pick.position = index
    Pick.objects.bulk_update(ordered, ["position"])
    Revision.objects.create(
        issue=issue,
        object_type="issue",
        object_id=issue.pk,
        # The order before too: the history shows where each pick moved from.
        data={"pick_order": after, "previous_order": before},
        changed_fields=["pick_order"],
        comment="reordered picks",
        lock_version=issue.lock_version,
        user=by,
    )
    touch_if_public(issue)
    render_issue(issue)
    return ordered


@transaction.atomic
def remove_pick(pick, *, by):
    """Remove ``pick`` from its issue; later picks move up. Its last text stays in the history."""
    issue = Issue.objects.select_for_update().get(pk=pick.issue_id)
    require_may_edit(issue, by)
    pick = Pick.objects.select_related("paper").get(pk=pick.pk)
    Revision.objects.create(
        issue=issue,
        object_type="pick",
        object_id=pick.pk,
        data={"arxiv_id": pick.paper.arxiv_id, **snapshot(pick, PICK_FIELDS)},
        changed_fields=[],
        comment=f"removed pick {pick.position} ({pick.paper.arxiv_id})",
        lock_version=pick.lock_version,
        user=by,
    )
    position = pick.position
    pick.delete()
    rest = list(issue.picks.filter(position__gt=position).order_by("position"))
    for p in rest:
        p.position -= 1
    # Ascending order: each pick moves into the place just freed.
    for p in rest:
        Pick.objects.filter(pk=p.pk).update(position=p.position)
    touch_if_public(issue)
    render_issue(issue)
    return issue


def restore_revision(revision, *, by):
    """Bring the fields of ``revision`` back, as a new revision. Returns the saved Issue or Pick."""
    if revision.object_type == "figure":
        raise ValidationError("A figure's history is kept for reading: change the figure on its pick's page.")
    if revision.object_type == "pick":
        pick = Pick.objects.filter(pk=revision.object_id).first()
        if pick is None:
            raise ValidationError("That pick has been removed; its text is in the revision to copy from.")
        data = {f: revision.data[f] for f in PICK_FIELDS if f in revision.data}
        if not data:
            raise ValidationError("This revision holds no pick text to restore.")
        with transaction.atomic():
            saved = update_pick(pick, by=by, data=data, lock_version=pick.lock_version)
            _mark_restore(saved, "pick", revision)
        return saved
    issue = Issue.objects.get(pk=revision.object_id)
    if revision.data.get("pick_order"):
        ids = dict(issue.picks.values_list("paper__arxiv_id", "pk"))
        order = [ids[a] for a in revision.data["pick_order"] if a in ids]
        order += [pk for pk in ids.values() if pk not in order]
        with transaction.atomic():
            reorder_picks(issue, order, by=by)
        return Issue.objects.get(pk=issue.pk)
    data = {f: revision.data[f] for f in ISSUE_FIELDS if f in revision.data}
    if not data:
        raise ValidationError("This revision records a status change; use the publishing buttons instead.")
    if issue.published_at:
        data.pop("slug", None)  # frozen after publication
    with transaction.atomic():
        saved = save_issue(issue, by=by, data=data, lock_version=issue.lock_version)
        _mark_restore(saved, "issue", revision)
    return saved


def _mark_restore(obj, object_type, revision):
    latest = Revision.objects.filter(object_type=object_type, object_id=obj.pk).order_by("-pk").first()
    if latest is not None and latest.pk != revision.pk:
        latest.comment = f"restored the revision of {revision.created:%Y-%m-%d %H:%M}"
        latest.save(update_fields=["comment"])


def revision_diffs(revisions):
    """[(revision, [(field, before, after), …]), …]: each revision against the previous one of its object."""
    ordered = sorted(revisions, key=lambda r: r.pk)
    previous = {}
    result = []
    for revision in ordered:
        key = (revision.object_type, revision.object_id)
        before = previous.get(key, {})
        rows = []
        fields = revision.changed_fields or [f for f in revision.data if before.get(f) != revision.data[f]]
        for f in fields:
            was = before.get(f, "")
            if f == "pick_order":
                # A reorder records the order it replaced; earlier revisions may not have.
                was = revision.data.get("previous_order", was)
            rows.append((f, was, revision.data.get(f, "")))
        if revision.data:
            previous[key] = {**before, **revision.data}
        result.append((revision, rows))
    result.reverse()
    return result
