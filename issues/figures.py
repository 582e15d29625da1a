"""Figures of a pick: the one path every figure change takes (the admin is a caller).

Figures follow the picks' rules: every change is atomic, locks the issue
row, lets curators change draft issues only (a scheduled or published issue
is the editors' to correct), records a Revision and shows readers an
"updated" time after a correction. Images are checked by Pillow
(issues/images.py); their responsive sizes are made by a Celery task
enqueued once the change is committed, and the page shows the original
image until they exist.
"""

from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max

from .editing import require_may_edit, snapshot, touch_if_public
from .images import validate_image
from .models import Figure, Issue, Revision
from .tasks import make_figure_renditions

FIGURE_FIELDS = ["alt_text", "caption", "credit", "credit_url", "position"]


def _record(issue, figure, changed, by, comment):
    return Revision.objects.create(
        issue=issue,
        pick_id=figure.pick_id,
        object_type="figure",
        object_id=figure.pk,
        data={"image": figure.image.name, **snapshot(figure, FIGURE_FIELDS)},
        changed_fields=changed,
        comment=comment,
        user=by,
    )


def _label(figure, pick):
    return f"figure {figure.position} of pick {pick.position}"


def _make_renditions_after_commit(figure):
    # After the commit: a worker must find the row, and a rolled-back upload makes nothing.
    make_figure_renditions.delay_on_commit(figure.pk)


def _delete_files_after_commit(names):
    # Only once the change is committed: a rolled-back edit still needs its files.
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: [default_storage.delete(name) for name in names])


def _locked_issue(pick_issue_id, by):
    """The pick's issue, locked (as the pick functions do) and checked for ``by``'s role."""
    issue = Issue.objects.select_for_update().get(pk=pick_issue_id)
    require_may_edit(issue, by)
    return issue


def _check_alt_text(alt_text):
    if not (alt_text or "").strip():
        raise ValidationError({"alt_text": "Describe the figure for readers who can't see it."})


@transaction.atomic
def add_figure(pick, *, by, image, alt_text, caption="", credit="", credit_url="", position=None):
    """Attach a validated image to ``pick``; returns the Figure (its renditions follow on commit)."""
    issue = _locked_issue(pick.issue_id, by)
    validate_image(image)
    _check_alt_text(alt_text)
    if position is None:
        position = (pick.figures.aggregate(last=Max("position"))["last"] or 0) + 1
    figure = Figure(
        pick=pick, alt_text=alt_text, caption=caption, credit=credit, credit_url=credit_url, position=position
    )
    figure.image.save(PurePosixPath(image.name).name, image, save=False)
    figure.full_clean(exclude=["pick", "image"])
    figure.save()
    _record(
        issue,
        figure,
        ["image", *[f for f in FIGURE_FIELDS if getattr(figure, f)]],
        by,
        f"added {_label(figure, pick)}",
    )
    touch_if_public(issue)
    _make_renditions_after_commit(figure)
    return figure


@transaction.atomic
def update_figure(figure, *, by, data, image=None):
    """Save the text fields in ``data`` (FIGURE_FIELDS) and, given ``image``, a new image.

    Returns the saved Figure; nothing is written (and no revision recorded) when
    nothing changed. A new image drops the old renditions at once: they show the
    old picture; the new ones follow on commit.
    """
    issue = _locked_issue(figure.pick.issue_id, by)
    current = Figure.objects.select_for_update().select_related("pick").get(pk=figure.pk)
    changed = []
    for name in FIGURE_FIELDS:
        if name in data and getattr(current, name) != data[name]:
            setattr(current, name, data[name])
            changed.append(name)
    _check_alt_text(current.alt_text)
    old_files = []
    if image is not None:
        validate_image(image)
        old_files = [current.image.name, *(r["name"] for r in current.renditions)]
        current.image.save(PurePosixPath(image.name).name, image, save=False)
        current.renditions = []
        changed.append("image")
    if not changed:
        return current
    current.full_clean(exclude=["pick", "image"])
    current.save()
    _record(issue, current, changed, by, f"changed {_label(current, current.pick)}")
    touch_if_public(issue)
    if image is not None:
        _delete_files_after_commit(old_files)
        _make_renditions_after_commit(current)
    return current


@transaction.atomic
def remove_figure(figure, *, by):
    """Remove ``figure`` from its pick; its text stays in the history. Returns the pick's issue."""
    issue = _locked_issue(figure.pick.issue_id, by)
    current = Figure.objects.select_for_update().select_related("pick").get(pk=figure.pk)
    _record(issue, current, [], by, f"removed {_label(current, current.pick)}")
    files = [current.image.name, *(r["name"] for r in current.renditions)]
    current.delete()
    touch_if_public(issue)
    _delete_files_after_commit(files)
    return issue
