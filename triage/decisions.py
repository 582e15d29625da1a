"""Triage: the one place a paper's state in an issue's queue changes.

Every function here is atomic, checks the caller's role itself (curators and
editors triage; only editors promote a paper to a Pick), records who and when
in a TriageEvent and returns what happened. The queue page, its JSON actions
and the admin are thin callers.

A paper with no TriageDecision in an issue is "new". A rejection is
remembered: ``Paper.objects.candidates_for()`` leaves the paper out of every
later queue. Undo replays a curator's own last change (a bulk action undoes as
one).
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from curation.roles import require_curator, require_editor
from issues.editing import add_pick, remove_pick
from issues.models import Issue, Pick
from papers.models import Paper

from .models import (
    AddedCandidate,
    SeenPaper,
    TriageDecision,
    TriageEvent,
    TriageNote,
    TriageSession,
    Vote,
)

SHORTLISTED = TriageDecision.State.SHORTLISTED
REJECTED = TriageDecision.State.REJECTED

# A visit to the queue within this long of the previous one continues the same session.
SESSION_GAP = timedelta(minutes=30)


class TriageError(Exception):
    """A triage change refused for a reason the curator can act on."""


@dataclass
class TriageResult:
    """What a (bulk) state change did: the papers changed and those left alone, with why."""

    state: str
    changed: list = field(default_factory=list)  # paper ids
    skipped: dict = field(default_factory=dict)  # paper id -> reason
    batch: uuid.UUID | None = None


def _paper_ids(papers):
    return [p.pk if isinstance(p, Paper) else int(p) for p in papers]


def _set_state(papers, issue, *, by, state, note="", action):
    """Move ``papers`` to ``state`` ("" = new) in ``issue``: the body of every state change."""
    require_curator(by, action)
    ids = list(dict.fromkeys(_paper_ids(papers)))
    result = TriageResult(state=state or "new")
    if not ids:
        return result
    now = timezone.now()
    # Lock the current decisions so two curators acting at once serialize on them.
    current = {
        d.paper_id: d
        for d in TriageDecision.objects.select_for_update().filter(issue=issue, paper_id__in=ids)
    }
    picked = set(Pick.objects.filter(paper_id__in=ids).values_list("paper_id", flat=True))
    known = set(Paper.objects.filter(pk__in=ids).values_list("pk", flat=True))
    batch = uuid.uuid4() if len(ids) > 1 else None
    events, upserts, deletes = [], [], []
    for pid in ids:
        before = current.get(pid)
        if pid not in known:
            result.skipped[pid] = "No such paper."
            continue
        if pid in picked:
            result.skipped[pid] = "Already picked; picked papers leave the queue."
            continue
        if (before.state if before else "") == state and (not note or before.note == note):
            result.skipped[pid] = f"Already {state or 'new'}."
            continue
        events.append(
            TriageEvent(
                issue=issue,
                paper_id=pid,
                user=by,
                action=action,
                previous_state=before.state if before else "",
                previous_note=before.note if before else "",
                detail=(
                    {"previous_by": before.by_id, "previous_at": before.at.isoformat()} if before else {}
                ),
                batch=batch,
                at=now,
            )
        )
        if state:
            upserts.append(TriageDecision(issue=issue, paper_id=pid, state=state, by=by, at=now, note=note))
        else:
            deletes.append(pid)
        result.changed.append(pid)
    if upserts:
        TriageDecision.objects.bulk_create(
            upserts,
            update_conflicts=True,
            unique_fields=["issue", "paper"],
            update_fields=["state", "by", "at", "note"],
        )
    if deletes:
        TriageDecision.objects.filter(issue=issue, paper_id__in=deletes).delete()
    TriageEvent.objects.bulk_create(events)
    SeenPaper.objects.bulk_create(
        [SeenPaper(user=by, paper_id=pid, at=now) for pid in result.changed], ignore_conflicts=True
    )
    result.batch = batch
    return result


def _one(result, paper):
    pid = _paper_ids([paper])[0]
    if pid in result.skipped:
        raise TriageError(result.skipped[pid])
    return result


@transaction.atomic
def shortlist(paper, issue, *, by, note=""):
    """Shortlist ``paper`` in ``issue`` (with an optional note); returns the TriageResult."""
    return _one(_set_state([paper], issue, by=by, state=SHORTLISTED, note=note, action="shortlist"), paper)


@transaction.atomic
def reject(paper, issue, *, by, note=""):
    """Reject ``paper``: it leaves this queue and never returns to a later one."""
    return _one(_set_state([paper], issue, by=by, state=REJECTED, note=note, action="reject"), paper)


@transaction.atomic
def reset(paper, issue, *, by):
    """Put ``paper`` back to "new" in ``issue``."""
    return _one(_set_state([paper], issue, by=by, state="", action="reset"), paper)


@transaction.atomic
def shortlist_many(papers, issue, *, by, note=""):
    return _set_state(papers, issue, by=by, state=SHORTLISTED, note=note, action="shortlist")


@transaction.atomic
def reject_many(papers, issue, *, by, note=""):
    return _set_state(papers, issue, by=by, state=REJECTED, note=note, action="reject")


@transaction.atomic
def reset_many(papers, issue, *, by):
    return _set_state(papers, issue, by=by, state="", action="reset")


@transaction.atomic
def vote(paper, issue, *, by, value):
    """Vote +1 or −1 on ``paper`` in ``issue``; 0 withdraws the vote. Returns the Vote or None."""
    require_curator(by, "vote")
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise TriageError("A vote is +1, −1 or 0 (withdraw).") from None
    if value not in (1, -1, 0):
        raise TriageError("A vote is +1, −1 or 0 (withdraw).")
    pid = _paper_ids([paper])[0]
    before = Vote.objects.select_for_update().filter(issue=issue, paper_id=pid, user=by).first()
    previous = before.value if before else 0
    if previous == value:
        return before
    TriageEvent.objects.create(
        issue=issue, paper_id=pid, user=by, action="vote", detail={"previous_vote": previous, "vote": value}
    )
    if value == 0:
        before.delete()
        return None
    current, _ = Vote.objects.update_or_create(
        issue=issue, paper_id=pid, user=by, defaults={"value": value, "at": timezone.now()}
    )
    return current


@transaction.atomic
def add_note(paper, issue, *, by, text):
    """Add a curator's note to ``paper`` in ``issue``; returns the TriageNote."""
    require_curator(by, "add notes")
    text = (text or "").strip()
    if not text:
        raise TriageError("A note needs some text.")
    pid = _paper_ids([paper])[0]
    note = TriageNote.objects.create(issue=issue, paper_id=pid, user=by, text=text)
    TriageEvent.objects.create(issue=issue, paper_id=pid, user=by, action="note", detail={"note_id": note.pk})
    return note


@transaction.atomic
def promote_to_pick(paper, issue, *, by):
    """Make a shortlisted ``paper`` the issue's next Pick, in one action. Editors only."""
    require_editor(by, "promote a paper to a pick")
    # The issue row lock serializes concurrent promotions on the next position.
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    pid = _paper_ids([paper])[0]
    paper = Paper.objects.get(pk=pid)
    existing = Pick.objects.filter(issue=issue, paper=paper).first()
    if existing:
        return existing
    if Pick.objects.filter(paper=paper).exists():
        raise TriageError("This paper is already a pick in another issue.")
    decision = TriageDecision.objects.filter(issue=issue, paper=paper).first()
    if decision is None or decision.state != SHORTLISTED:
        raise TriageError("Only a shortlisted paper can be promoted to a pick.")
    # Through the editing function, so the pick gets its links, a revision and a render.
    pick = add_pick(issue, paper, by=by, curator=decision.by)
    TriageEvent.objects.create(
        issue=issue,
        paper=paper,
        user=by,
        action="promote",
        previous_state=decision.state,
        detail={"pick_id": pick.pk},
    )
    return pick


@transaction.atomic
def undo(issue, *, by):
    """Undo ``by``'s last change in ``issue`` (a whole bulk action at once).

    Returns the undone TriageEvents, or an empty list when there is nothing to undo.
    Refused when another curator has changed the same paper since.
    """
    require_curator(by, "undo")
    last = (
        TriageEvent.objects.select_for_update()
        .filter(issue=issue, user=by, undone=False)
        .exclude(action="undo")
        .order_by("-at", "-pk")
        .first()
    )
    if last is None:
        return []
    events = (
        list(TriageEvent.objects.filter(batch=last.batch, issue=issue, user=by, undone=False))
        if last.batch
        else [last]
    )
    if last.action == "promote":
        _undo_promote(issue, last, by)
    elif last.action in ("shortlist", "reject", "reset"):
        later = (
            TriageEvent.objects.filter(
                issue=issue,
                paper_id__in=[e.paper_id for e in events],
                action__in=["shortlist", "reject", "reset", "promote"],
                undone=False,
                pk__gt=last.pk,
            )
            .exclude(user=by)
            .select_related("user")
            .first()
        )
        if later:
            raise TriageError(f"{later.user or 'Someone'} changed this paper since; undo refused.")
        _restore_states(issue, events)
    elif last.action == "vote":
        previous = last.detail.get("previous_vote", 0)
        if previous:
            Vote.objects.update_or_create(
                issue=issue, paper_id=last.paper_id, user=by, defaults={"value": previous}
            )
        else:
            Vote.objects.filter(issue=issue, paper_id=last.paper_id, user=by).delete()
    elif last.action == "note":
        TriageNote.objects.filter(pk=last.detail.get("note_id")).delete()
    TriageEvent.objects.filter(pk__in=[e.pk for e in events]).update(undone=True)
    TriageEvent.objects.create(
        issue=issue,
        paper_id=last.paper_id,
        user=by,
        action="undo",
        detail={"undid": [e.pk for e in events], "action": last.action},
    )
    return events


def _undo_promote(issue, event, by):
    """Take the promoted pick out again, through the editing path (its role check and revision).

    Once the issue is scheduled or published the pick is public (or about to be):
    removing it is a correction the editor makes on the issue, not an undo.
    """
    issue = Issue.objects.select_for_update().get(pk=issue.pk)
    if issue.status in (Issue.Status.SCHEDULED, Issue.Status.PUBLISHED):
        raise TriageError(
            f"The pick is in a {issue.get_status_display()} issue now; undo refused. "
            "An editor can remove it from the issue as a correction."
        )
    pick = Pick.objects.filter(pk=event.detail.get("pick_id"), issue=issue).first()
    if pick is not None:
        remove_pick(pick, by=by)


def _restore_states(issue, events):
    restore, deletes = [], []
    for e in events:
        if e.previous_state:
            restore.append(
                TriageDecision(
                    issue=issue,
                    paper_id=e.paper_id,
                    state=e.previous_state,
                    note=e.previous_note,
                    by_id=e.detail.get("previous_by"),
                    at=e.detail.get("previous_at") or e.at,
                )
            )
        else:
            deletes.append(e.paper_id)
    if deletes:
        TriageDecision.objects.filter(issue=issue, paper_id__in=deletes).delete()
    if restore:
        TriageDecision.objects.bulk_create(
            restore,
            update_conflicts=True,
            unique_fields=["issue", "paper"],
            update_fields=["state", "by", "at", "note"],
        )


@transaction.atomic
def add_to_queue(paper, issue, *, by):
    """Add ``paper`` to ``issue``'s queue by hand, whatever its submission date."""
    require_curator(by, "add papers to a queue")
    added, _ = AddedCandidate.objects.get_or_create(
        issue=issue, paper_id=_paper_ids([paper])[0], defaults={"by": by}
    )
    return added


def mark_seen(papers, *, by):
    """Remember that ``by`` has seen ``papers`` (for the "unseen by me" filter)."""
    require_curator(by, "triage")
    now = timezone.now()
    SeenPaper.objects.bulk_create(
        [SeenPaper(user=by, paper_id=pid, at=now) for pid in _paper_ids(papers)], ignore_conflicts=True
    )


@transaction.atomic
def visit_queue(issue, *, by, now=None):
    """Record a visit to ``issue``'s queue; returns when ``by``'s previous session ended.

    Visits less than SESSION_GAP apart are one session. Papers added after the
    returned time are "new since my last session"; None means this is the first.
    """
    require_curator(by, "triage")
    now = now or timezone.now()
    sessions = list(
        TriageSession.objects.select_for_update().filter(user=by, issue=issue).order_by("-started_at")[:2]
    )
    if sessions and sessions[0].last_seen_at >= now - SESSION_GAP:
        current = sessions[0]
        TriageSession.objects.filter(pk=current.pk).update(last_seen_at=now)
        return sessions[1].last_seen_at if len(sessions) > 1 else None
    TriageSession.objects.create(user=by, issue=issue, started_at=now, last_seen_at=now)
    return sessions[0].last_seen_at if sessions else None
