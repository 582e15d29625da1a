"""Triage state changes: shortlist, reject, reset, votes, notes, promote, undo, sessions."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from issues.models import Pick, Revision
from issues.publishing import publish_issue, schedule_issue
from tests.conftest import make_issue, make_paper, make_publisher
from triage import decisions
from triage.models import Candidate, SeenPaper, TriageDecision, TriageEvent, TriageNote, Vote

pytestmark = pytest.mark.django_db


def state_of(paper, issue):
    decision = TriageDecision.objects.filter(paper=paper, issue=issue).first()
    return decision.state if decision else "new"


def test_shortlist_records_who_when_and_note(curator):
    issue, paper = make_issue(), make_paper()
    decisions.shortlist(paper, issue, by=curator, note="Strong baseline")
    decision = TriageDecision.objects.get(paper=paper, issue=issue)
    assert (decision.state, decision.by, decision.note) == ("shortlisted", curator, "Strong baseline")
    event = TriageEvent.objects.get(paper=paper, action="shortlist")
    assert event.user == curator and event.previous_state == ""
    assert SeenPaper.objects.filter(user=curator, paper=paper).exists()


@pytest.mark.parametrize(
    "change, expected",
    [(decisions.shortlist, "shortlisted"), (decisions.reject, "rejected")],
)
def test_each_state_change_is_undone(curator, change, expected):
    issue, paper = make_issue(), make_paper()
    change(paper, issue, by=curator)
    assert state_of(paper, issue) == expected
    undone = decisions.undo(issue, by=curator)
    assert [e.action for e in undone] == [change.__name__]
    assert state_of(paper, issue) == "new"


def test_reset_and_its_undo_restore_the_previous_decision(curator, other_curator):
    issue, paper = make_issue(), make_paper()
    decisions.shortlist(paper, issue, by=other_curator, note="keep")
    decisions.reset(paper, issue, by=curator)
    assert state_of(paper, issue) == "new"
    decisions.undo(issue, by=curator)
    decision = TriageDecision.objects.get(paper=paper, issue=issue)
    # The shortlist comes back as it was: Cora's, with her note.
    assert (decision.state, decision.by, decision.note) == ("shortlisted", other_curator, "keep")


def test_undo_goes_back_one_change_at_a_time(curator):
    issue, paper = make_issue(), make_paper()
    decisions.shortlist(paper, issue, by=curator)
    decisions.reject(paper, issue, by=curator)
    decisions.undo(issue, by=curator)
    assert state_of(paper, issue) == "shortlisted"
    decisions.undo(issue, by=curator)
    assert state_of(paper, issue) == "new"
    assert decisions.undo(issue, by=curator) == []


def test_undo_only_undoes_my_own_changes(curator, other_curator):
    issue, mine, theirs = make_issue(), make_paper(), make_paper()
    decisions.shortlist(mine, issue, by=curator)
    decisions.reject(theirs, issue, by=other_curator)
    decisions.undo(issue, by=curator)
    assert state_of(mine, issue) == "new"
    assert state_of(theirs, issue) == "rejected"


def test_undo_refused_when_someone_changed_the_paper_since(curator, other_curator):
    issue, paper = make_issue(), make_paper()
    decisions.shortlist(paper, issue, by=curator)
    decisions.reject(paper, issue, by=other_curator)
    with pytest.raises(decisions.TriageError, match="changed this paper since"):
        decisions.undo(issue, by=curator)
    assert state_of(paper, issue) == "rejected"


def test_votes_from_two_curators_and_their_undo(curator, other_curator):
    issue, paper = make_issue(), make_paper()
    decisions.shortlist(paper, issue, by=curator)
    decisions.vote(paper, issue, by=curator, value=1)
    decisions.vote(paper, issue, by=other_curator, value=1)
    decisions.vote(paper, issue, by=other_curator, value=-1)  # changes her mind
    assert sorted(Vote.objects.filter(paper=paper).values_list("user__username", "value")) == [
        ("carl", 1),
        ("cora", -1),
    ]
    decisions.undo(issue, by=other_curator)
    assert Vote.objects.get(paper=paper, user=other_curator).value == 1
    decisions.vote(paper, issue, by=curator, value=0)
    assert not Vote.objects.filter(paper=paper, user=curator).exists()
    decisions.undo(issue, by=curator)
    assert Vote.objects.get(paper=paper, user=curator).value == 1


@pytest.mark.parametrize("bad", [2, "abc", None])
def test_a_vote_is_plus_or_minus_one(curator, bad):
    with pytest.raises(decisions.TriageError):
        decisions.vote(make_paper(), make_issue(), by=curator, value=bad)


def test_notes_are_added_and_undone(curator, other_curator):
    issue, paper = make_issue(), make_paper()
    decisions.add_note(paper, issue, by=curator, text="Check the ablations")
    decisions.add_note(paper, issue, by=other_curator, text="Agreed")
    decisions.undo(issue, by=curator)
    assert list(TriageNote.objects.values_list("text", flat=True)) == ["Agreed"]
    with pytest.raises(decisions.TriageError):
        decisions.add_note(paper, issue, by=curator, text="   ")


def test_editor_promotes_a_shortlisted_paper_to_the_next_pick(curator, editor):
    issue = make_issue(picks=2)
    paper = make_paper(code_url="https://github.com/x/y")
    with pytest.raises(decisions.TriageError, match="shortlisted"):
        decisions.promote_to_pick(paper, issue, by=editor)
    decisions.shortlist(paper, issue, by=curator)
    with pytest.raises(PermissionDenied):
        decisions.promote_to_pick(paper, issue, by=curator)
    pick = decisions.promote_to_pick(paper, issue, by=editor)
    assert (pick.position, pick.paper_title, pick.curator, pick.code_url) == (
        3,
        paper.title,
        curator,
        "https://github.com/x/y",
    )
    assert paper not in Candidate.objects.for_issue(issue)
    decisions.undo(issue, by=editor)
    assert not Pick.objects.filter(paper=paper).exists()
    assert paper in Candidate.objects.for_issue(issue)


# Undo of a promote: through the pick removal path ----------------------------------------


def promoted(issue, curator, editor):
    """A paper shortlisted by ``curator`` and promoted to the issue's last pick by ``editor``."""
    paper = make_paper()
    decisions.shortlist(paper, issue, by=curator)
    pick = decisions.promote_to_pick(paper, issue, by=editor)
    return paper, pick


def make_public(issue, status):
    """Schedule or publish ``issue``, once its promoted pick has its commentary."""
    Pick.objects.filter(issue=issue, why="").update(why="Why.", key_insights="Insight.")
    if status == "published":
        return publish_issue(issue, by=make_publisher())
    return schedule_issue(issue, by=make_publisher(), publish_at=timezone.now() + timedelta(days=1))


def undo_promote_via_queue_page(issue, editor):
    """The queue page's action endpoint, as its script posts it; returns the answer."""
    client = Client()
    client.force_login(editor)
    response = client.post(
        f"/triage/issues/{issue.pk}/action/", {"action": "undo"}, HTTP_ACCEPT="application/json"
    )
    return response.status_code, response.json()


def undo_promote_via_api(issue, editor, paper):
    client = APIClient()
    client.force_login(editor)
    response = client.post(f"/api/v1/issues/{issue.slug}/candidates/{paper.arxiv_id}/undo/")
    return response.status_code, response.json()


@pytest.mark.parametrize("door", ["function", "queue page", "api"])
def test_undoing_a_promote_on_a_draft_removes_the_pick_with_a_revision(curator, editor, door):
    issue = make_issue(picks=2)
    paper, pick = promoted(issue, curator, editor)
    if door == "function":
        undone = decisions.undo(issue, by=editor)
        assert [e.action for e in undone] == ["promote"]
    elif door == "queue page":
        status, body = undo_promote_via_queue_page(issue, editor)
        assert (status, body["ok"], body["papers"][0]["state"]) == (200, True, "shortlisted")
    else:
        status, body = undo_promote_via_api(issue, editor, paper)
        assert (status, body["state"]) == (200, "shortlisted")
    assert not Pick.objects.filter(pk=pick.pk).exists()
    # Through editing.remove_pick: the removal is in the issue's history, text and all.
    revision = Revision.objects.filter(issue=issue, object_type="pick", object_id=pick.pk).latest("pk")
    assert revision.comment == f"removed pick 3 ({paper.arxiv_id})" and revision.user == editor
    assert state_of(paper, issue) == "shortlisted"
    assert paper in Candidate.objects.for_issue(issue)


@pytest.mark.parametrize("status", ["scheduled", "published"])
@pytest.mark.parametrize("door", ["function", "queue page", "api"])
def test_undoing_a_promote_is_refused_once_the_issue_is_scheduled_or_published(curator, editor, status, door):
    issue = make_issue(picks=1)
    paper, pick = promoted(issue, curator, editor)
    issue = make_public(issue, status)
    if door == "function":
        with pytest.raises(decisions.TriageError, match=f"in a {status} issue now; undo refused"):
            decisions.undo(issue, by=editor)
    elif door == "queue page":
        code, body = undo_promote_via_queue_page(issue, editor)
        assert code == 400 and f"in a {status} issue now; undo refused" in body["error"]
        assert "remove it from the issue as a correction" in body["error"]
    else:
        code, body = undo_promote_via_api(issue, editor, paper)
        assert code == 409 and f"in a {status} issue now; undo refused" in body["error"]["message"]
    assert Pick.objects.filter(pk=pick.pk, issue=issue).exists()
    assert not Revision.objects.filter(
        object_type="pick", object_id=pick.pk, comment__startswith="removed"
    ).exists()
    # Still undoable later: the event is not marked undone by the refusal.
    assert TriageEvent.objects.get(action="promote", paper=paper).undone is False


@pytest.mark.parametrize(
    "call",
    [
        lambda p, i, u: decisions.shortlist(p, i, by=u),
        lambda p, i, u: decisions.reject(p, i, by=u),
        lambda p, i, u: decisions.reset(p, i, by=u),
        lambda p, i, u: decisions.vote(p, i, by=u, value=1),
        lambda p, i, u: decisions.add_note(p, i, by=u, text="hi"),
        lambda p, i, u: decisions.undo(i, by=u),
        lambda p, i, u: decisions.promote_to_pick(p, i, by=u),
        lambda p, i, u: decisions.shortlist_many([p], i, by=u),
    ],
)
def test_a_reader_cannot_triage(reader, call):
    issue, paper = make_issue(), make_paper()
    with pytest.raises(PermissionDenied):
        call(paper, issue, reader)
    with pytest.raises(PermissionDenied):
        call(paper, issue, None)
    assert not TriageEvent.objects.exists()


# The queue's candidates ----------------------------------------------------------


def test_candidates_are_the_period_plus_papers_added_by_hand(curator):
    issue = make_issue(period_start=date(2021, 3, 1), period_end=date(2021, 3, 31))
    inside = make_paper(submitted_at=datetime(2021, 3, 31, 23, 59, tzinfo=UTC))
    before = make_paper(submitted_at=datetime(2021, 2, 28, 23, 59, tzinfo=UTC))
    after = make_paper(submitted_at=datetime(2021, 4, 1, 0, 0, tzinfo=UTC))
    decisions.add_to_queue(before, issue, by=curator)
    assert set(Candidate.objects.for_issue(issue)) == {inside, before}
    assert after not in Candidate.objects.for_issue(issue)


def test_rejected_papers_never_return_even_in_the_next_issue(curator):
    march = make_issue()
    april = make_issue(slug="april-2021", period_start=date(2021, 3, 15), period_end=date(2021, 4, 30))
    paper = make_paper(submitted_at=datetime(2021, 3, 20, tzinfo=UTC))
    assert paper in Candidate.objects.for_issue(april)
    decisions.reject(paper, march, by=curator)
    assert paper not in Candidate.objects.for_issue(march)
    assert paper not in Candidate.objects.for_issue(april)
    # Added by hand to the next issue: still rejected.
    decisions.add_to_queue(paper, april, by=curator)
    assert paper not in Candidate.objects.for_issue(april)


def test_picked_papers_never_reappear_in_any_queue(curator):
    earlier = make_issue(slug="february-2021", picks=1, status="published")
    picked = earlier.picks.get().paper
    later = make_issue(slug="april-2021", period_start=date(2021, 3, 1), period_end=date(2021, 4, 30))
    decisions.add_to_queue(picked, later, by=curator)
    assert picked not in Candidate.objects.for_issue(later)
    with pytest.raises(decisions.TriageError, match="picked"):
        decisions.shortlist(picked, later, by=curator)


# Bulk -------------------------------------------------------------------------


def test_bulk_actions_on_500_papers_undo_as_one(curator, django_assert_max_num_queries):
    from papers.ingest import import_entries
    from tests.conftest import make_record

    issue = make_issue()
    import_entries([make_record() for _ in range(500)])
    ids = list(Candidate.objects.for_issue(issue).values_list("pk", flat=True))
    assert len(ids) == 500
    # A handful of bulk statements, not one per paper (SQLite splits big inserts into batches).
    with django_assert_max_num_queries(25):
        result = decisions.reject_many(ids, issue, by=curator)
    assert len(result.changed) == 500
    assert not Candidate.objects.for_issue(issue).exists()
    decisions.shortlist_many(ids[:10], issue, by=curator)
    decisions.undo(issue, by=curator)
    assert TriageDecision.objects.filter(issue=issue, state="rejected").count() == 500
    events = decisions.undo(issue, by=curator)
    assert len(events) == 500
    assert Candidate.objects.for_issue(issue).count() == 500


def test_bulk_skips_picked_papers_and_says_why(curator):
    issue = make_issue(picks=1)
    picked = issue.picks.get().paper
    fresh = make_paper()
    result = decisions.shortlist_many([picked, fresh], issue, by=curator)
    assert result.changed == [fresh.pk]
    assert "picked" in result.skipped[picked.pk]


# "New since my last session" ---------------------------------------------------------


def test_new_since_my_last_session(curator, other_curator):
    issue = make_issue()
    t0 = timezone.now()
    assert decisions.visit_queue(issue, by=curator, now=t0) is None
    # A visit 10 minutes later is the same session.
    assert decisions.visit_queue(issue, by=curator, now=t0 + timedelta(minutes=10)) is None
    # Next day: a new session; "new" means added after the previous one ended.
    since = decisions.visit_queue(issue, by=curator, now=t0 + timedelta(days=1))
    assert since == t0 + timedelta(minutes=10)
    # Other curators keep their own sessions.
    assert decisions.visit_queue(issue, by=other_curator, now=t0 + timedelta(days=1)) is None
