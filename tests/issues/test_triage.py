"""Triage state changes: shortlist, reject, reset, votes, notes, promote, undo, sessions."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from issues import triage
from issues.models import Pick, SeenPaper, TriageDecision, TriageEvent, TriageNote, Vote
from papers.models import Paper
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def state_of(paper, issue):
    decision = TriageDecision.objects.filter(paper=paper, issue=issue).first()
    return decision.state if decision else "new"


def test_shortlist_records_who_when_and_note(curator):
    issue, paper = make_issue(), make_paper()
    triage.shortlist(paper, issue, by=curator, note="Strong baseline")
    decision = TriageDecision.objects.get(paper=paper, issue=issue)
    assert (decision.state, decision.by, decision.note) == ("shortlisted", curator, "Strong baseline")
    event = TriageEvent.objects.get(paper=paper, action="shortlist")
    assert event.user == curator and event.previous_state == ""
    assert SeenPaper.objects.filter(user=curator, paper=paper).exists()


@pytest.mark.parametrize(
    "change, expected",
    [(triage.shortlist, "shortlisted"), (triage.reject, "rejected")],
)
def test_each_state_change_is_undone(curator, change, expected):
    issue, paper = make_issue(), make_paper()
    change(paper, issue, by=curator)
    assert state_of(paper, issue) == expected
    undone = triage.undo(issue, by=curator)
    assert [e.action for e in undone] == [change.__name__]
    assert state_of(paper, issue) == "new"


def test_reset_and_its_undo_restore_the_previous_decision(curator, other_curator):
    issue, paper = make_issue(), make_paper()
    triage.shortlist(paper, issue, by=other_curator, note="keep")
    triage.reset(paper, issue, by=curator)
    assert state_of(paper, issue) == "new"
    triage.undo(issue, by=curator)
    decision = TriageDecision.objects.get(paper=paper, issue=issue)
    # The shortlist comes back as it was: Cora's, with her note.
    assert (decision.state, decision.by, decision.note) == ("shortlisted", other_curator, "keep")


def test_undo_goes_back_one_change_at_a_time(curator):
    issue, paper = make_issue(), make_paper()
    triage.shortlist(paper, issue, by=curator)
    triage.reject(paper, issue, by=curator)
    triage.undo(issue, by=curator)
    assert state_of(paper, issue) == "shortlisted"
    triage.undo(issue, by=curator)
    assert state_of(paper, issue) == "new"
    assert triage.undo(issue, by=curator) == []


def test_undo_only_undoes_my_own_changes(curator, other_curator):
    issue, mine, theirs = make_issue(), make_paper(), make_paper()
    triage.shortlist(mine, issue, by=curator)
    triage.reject(theirs, issue, by=other_curator)
    triage.undo(issue, by=curator)
    assert state_of(mine, issue) == "new"
    assert state_of(theirs, issue) == "rejected"


def test_undo_refused_when_someone_changed_the_paper_since(curator, other_curator):
    issue, paper = make_issue(), make_paper()
    triage.shortlist(paper, issue, by=curator)
    triage.reject(paper, issue, by=other_curator)
    with pytest.raises(triage.TriageError, match="changed this paper since"):
        triage.undo(issue, by=curator)
    assert state_of(paper, issue) == "rejected"


def test_votes_from_two_curators_and_their_undo(curator, other_curator):
    issue, paper = make_issue(), make_paper()
    triage.shortlist(paper, issue, by=curator)
    triage.vote(paper, issue, by=curator, value=1)
    triage.vote(paper, issue, by=other_curator, value=1)
    triage.vote(paper, issue, by=other_curator, value=-1)  # changes her mind
    assert sorted(Vote.objects.filter(paper=paper).values_list("user__username", "value")) == [
        ("carl", 1),
        ("cora", -1),
    ]
    triage.undo(issue, by=other_curator)
    assert Vote.objects.get(paper=paper, user=other_curator).value == 1
    triage.vote(paper, issue, by=curator, value=0)
    assert not Vote.objects.filter(paper=paper, user=curator).exists()
    triage.undo(issue, by=curator)
    assert Vote.objects.get(paper=paper, user=curator).value == 1


@pytest.mark.parametrize("bad", [2, "abc", None])
def test_a_vote_is_plus_or_minus_one(curator, bad):
    with pytest.raises(triage.TriageError):
        triage.vote(make_paper(), make_issue(), by=curator, value=bad)


def test_notes_are_added_and_undone(curator, other_curator):
    issue, paper = make_issue(), make_paper()
    triage.add_note(paper, issue, by=curator, text="Check the ablations")
    triage.add_note(paper, issue, by=other_curator, text="Agreed")
    triage.undo(issue, by=curator)
    assert list(TriageNote.objects.values_list("text", flat=True)) == ["Agreed"]
    with pytest.raises(triage.TriageError):
        triage.add_note(paper, issue, by=curator, text="   ")


def test_editor_promotes_a_shortlisted_paper_to_the_next_pick(curator, editor):
    issue = make_issue(picks=2)
    paper = make_paper(code_url="https://github.com/x/y")
    with pytest.raises(triage.TriageError, match="shortlisted"):
        triage.promote_to_pick(paper, issue, by=editor)
    triage.shortlist(paper, issue, by=curator)
    with pytest.raises(PermissionDenied):
        triage.promote_to_pick(paper, issue, by=curator)
    pick = triage.promote_to_pick(paper, issue, by=editor)
    assert (pick.position, pick.paper_title, pick.curator, pick.code_url) == (
        3,
        paper.title,
        curator,
        "https://github.com/x/y",
    )
    assert paper not in Paper.objects.candidates_for(issue)
    triage.undo(issue, by=editor)
    assert not Pick.objects.filter(paper=paper).exists()
    assert paper in Paper.objects.candidates_for(issue)


@pytest.mark.parametrize(
    "call",
    [
        lambda p, i, u: triage.shortlist(p, i, by=u),
        lambda p, i, u: triage.reject(p, i, by=u),
        lambda p, i, u: triage.reset(p, i, by=u),
        lambda p, i, u: triage.vote(p, i, by=u, value=1),
        lambda p, i, u: triage.add_note(p, i, by=u, text="hi"),
        lambda p, i, u: triage.undo(i, by=u),
        lambda p, i, u: triage.promote_to_pick(p, i, by=u),
        lambda p, i, u: triage.shortlist_many([p], i, by=u),
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
    triage.add_to_queue(before, issue, by=curator)
    assert set(Paper.objects.candidates_for(issue)) == {inside, before}
    assert after not in Paper.objects.candidates_for(issue)


def test_rejected_papers_never_return_even_in_the_next_issue(curator):
    march = make_issue()
    april = make_issue(slug="april-2021", period_start=date(2021, 3, 15), period_end=date(2021, 4, 30))
    paper = make_paper(submitted_at=datetime(2021, 3, 20, tzinfo=UTC))
    assert paper in Paper.objects.candidates_for(april)
    triage.reject(paper, march, by=curator)
    assert paper not in Paper.objects.candidates_for(march)
    assert paper not in Paper.objects.candidates_for(april)
    # Added by hand to the next issue: still rejected.
    triage.add_to_queue(paper, april, by=curator)
    assert paper not in Paper.objects.candidates_for(april)


def test_picked_papers_never_reappear_in_any_queue(curator):
    earlier = make_issue(slug="february-2021", picks=1, status="published")
    picked = earlier.picks.get().paper
    later = make_issue(slug="april-2021", period_start=date(2021, 3, 1), period_end=date(2021, 4, 30))
    triage.add_to_queue(picked, later, by=curator)
    assert picked not in Paper.objects.candidates_for(later)
    with pytest.raises(triage.TriageError, match="picked"):
        triage.shortlist(picked, later, by=curator)


# Bulk -------------------------------------------------------------------------


def test_bulk_actions_on_500_papers_undo_as_one(curator, django_assert_max_num_queries):
    from papers.ingest import import_entries
    from tests.conftest import make_record

    issue = make_issue()
    import_entries([make_record() for _ in range(500)])
    ids = list(Paper.objects.candidates_for(issue).values_list("pk", flat=True))
    assert len(ids) == 500
    # A handful of bulk statements, not one per paper (SQLite splits big inserts into batches).
    with django_assert_max_num_queries(25):
        result = triage.reject_many(ids, issue, by=curator)
    assert len(result.changed) == 500
    assert not Paper.objects.candidates_for(issue).exists()
    triage.shortlist_many(ids[:10], issue, by=curator)
    triage.undo(issue, by=curator)
    assert TriageDecision.objects.filter(issue=issue, state="rejected").count() == 500
    events = triage.undo(issue, by=curator)
    assert len(events) == 500
    assert Paper.objects.candidates_for(issue).count() == 500


def test_bulk_skips_picked_papers_and_says_why(curator):
    issue = make_issue(picks=1)
    picked = issue.picks.get().paper
    fresh = make_paper()
    result = triage.shortlist_many([picked, fresh], issue, by=curator)
    assert result.changed == [fresh.pk]
    assert "picked" in result.skipped[picked.pk]


# "New since my last session" ---------------------------------------------------------


def test_new_since_my_last_session(curator, other_curator):
    issue = make_issue()
    t0 = timezone.now()
    assert triage.visit_queue(issue, by=curator, now=t0) is None
    # A visit 10 minutes later is the same session.
    assert triage.visit_queue(issue, by=curator, now=t0 + timedelta(minutes=10)) is None
    # Next day: a new session; "new" means added after the previous one ended.
    since = triage.visit_queue(issue, by=curator, now=t0 + timedelta(days=1))
    assert since == t0 + timedelta(minutes=10)
    # Other curators keep their own sessions.
    assert triage.visit_queue(issue, by=other_curator, now=t0 + timedelta(days=1)) is None
