"""The triage pages: the queue, its filters and actions, the shortlist, permissions."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from issues.models import Pick
from papers.ingest import import_entries
from papers.models import Paper
from tests.conftest import make_issue, make_paper, make_record
from triage import decisions
from triage.models import (
    Candidate,
    PaperScore,
    RankerModel,
    TriageDecision,
    TriageSession,
    Vote,
    WatchlistEntry,
)

pytestmark = pytest.mark.django_db


def login(client, user):
    # Named backend: force_login would otherwise pick the first configured one.
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


def queue_url(issue):
    return reverse("triage:queue", args=[issue.pk])


def action_url(issue):
    return reverse("triage:action", args=[issue.pk])


def shortlist_url(issue):
    return reverse("triage:shortlist", args=[issue.pk])


def score(paper, value, explanation=None):
    ranker, _ = RankerModel.objects.get_or_create(version=1, defaults={"active": True})
    return PaperScore.objects.create(paper=paper, ranker=ranker, score=value, explanation=explanation or {})


def row_ids(response):
    return [row["paper"].pk for row in response.context["rows"]]


# Permissions ------------------------------------------------------------------------


def test_anonymous_is_sent_to_login_and_changes_nothing(client):
    issue, paper = make_issue(), make_paper()
    for url in (queue_url(issue), shortlist_url(issue)):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(action_url(issue), {"action": "reject", "paper": paper.pk})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not TriageDecision.objects.exists()


def test_a_reader_is_refused(client, reader, django_user_model):
    issue, paper = make_issue(), make_paper()
    login(client, reader)  # not staff: the admin sends them to log in
    assert client.get(queue_url(issue)).status_code == 302
    staff_reader = django_user_model.objects.create_user("sam", is_staff=True)  # staff, but no role
    login(client, staff_reader)
    assert client.get(queue_url(issue)).status_code == 403
    assert client.get(shortlist_url(issue)).status_code == 403
    response = client.post(
        action_url(issue), {"action": "reject", "paper": paper.pk}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 403
    assert not TriageDecision.objects.exists()


def test_actions_need_the_csrf_token(curator):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    login(client, curator)
    issue, paper = make_issue(), make_paper()
    response = client.post(action_url(issue), {"action": "reject", "paper": paper.pk})
    assert response.status_code == 403
    assert not TriageDecision.objects.exists()


# The queue ------------------------------------------------------------------------------


def test_queue_rows_are_ordered_by_stored_score_unscored_last(client, curator):
    issue = make_issue()
    low, high, unscored = make_paper(), make_paper(), make_paper()
    score(low, 0.1)
    score(high, 0.9)
    login(client, curator)
    response = client.get(queue_url(issue))
    assert response.status_code == 200
    assert row_ids(response) == [high.pk, low.pk, unscored.pk]


def test_queue_row_shows_authors_categories_code_and_the_stored_explanation(client, curator):
    issue = make_issue()
    paper = make_paper(
        title="Sparse mixtures",
        authors=[(f"Person {i}", "") for i in range(5)],
        categories=["cs.LG", "stat.ML"],
        code_url="https://github.com/a/b",
    )
    explanation = {
        "kind": "linear",
        "up": [
            {"label": "mixture experts", "contribution": 0.42},
            {"label": "author history", "contribution": 0.2},
        ],
        "down": [{"label": "survey", "contribution": -0.13}],
    }
    score(paper, 0.77, explanation)
    login(client, curator)
    html = client.get(queue_url(issue)).content.decode()
    assert "Person 0, Person 1, Person 2" in html
    assert "et al. (2 more)" in html and "Person 4" in html
    assert "stat.ML" in html and ">code<" in html
    assert paper.abs_url in html
    # Exactly the stored contributions, with their sign.
    for item in explanation["up"] + explanation["down"]:
        assert item["label"] in html
        assert f"{item['contribution']:.3f}" in html
    assert "0.770" in html


def test_fallback_explanation_says_so(client, curator):
    issue, paper = make_issue(), make_paper()
    score(paper, 0.5, {"kind": "fallback", "up": [["recency", 0.5]]})
    login(client, curator)
    html = client.get(queue_url(issue)).content.decode()
    assert "Fallback ranking" in html and "recency" in html


def test_queue_query_count_does_not_grow_with_rows(client, curator, django_assert_num_queries):
    issue = make_issue()
    login(client, curator)
    for n in (1, 30):
        import_entries([make_record() for _ in range(n)])
        for paper in Paper.objects.filter(score__isnull=True)[:5]:
            score(paper, 0.5, {"up": [["x", 0.1]]})
        # 21 whatever the rows: session, user, the user's groups (cached for every role check),
        # issue, savepoint + this curator's sessions + insert/update + release (visit_queue),
        # watchlist, papers added by hand, the queue's size (EXPLAIN estimate on PostgreSQL,
        # COUNT on SQLite), the scored papers, then the unscored ones (fewer than a page are
        # scored here), seen marks, decisions, votes, notes, picks, the insert of the new seen
        # marks, the admin's permissions (user, groups).
        with django_assert_num_queries(21):
            response = client.get(queue_url(issue))
        assert response.status_code == 200


def test_filters(client, curator, other_curator):
    issue = make_issue()
    # Explicit dates: the factory's default day depends on how many papers earlier tests made.
    other_day = datetime(2021, 3, 10, 12, tzinfo=UTC)
    coded = make_paper(
        code_url="https://github.com/x/y",
        primary_category="cs.CV",
        categories=["cs.CV"],
        submitted_at=other_day,
    )
    cross = make_paper(primary_category="cs.CL", categories=["cs.CL", "cs.CV"], submitted_at=other_day)
    dated = make_paper(submitted_at=datetime(2021, 3, 27, 12, tzinfo=UTC))
    famous = make_paper(authors=[("Yann LeCun", "")], title="Convolutions again", submitted_at=other_day)
    plain = make_paper(submitted_at=datetime(2021, 3, 2, 12, tzinfo=UTC))
    decisions.shortlist(plain, issue, by=curator)
    decisions.shortlist(dated, issue, by=other_curator)
    decisions.vote(plain, issue, by=curator, value=1)
    decisions.vote(plain, issue, by=other_curator, value=1)
    decisions.vote(dated, issue, by=curator, value=-1)
    WatchlistEntry.objects.create(user=curator, kind="author", term="Yann LeCun")
    login(client, curator)

    def ids(**params):
        return set(row_ids(client.get(queue_url(issue), params)))

    assert ids(code=1) == {coded.pk}
    assert ids(category="cs.CV") == {coded.pk, cross.pk}
    assert ids(primary="cs.CV") == {coded.pk}
    assert ids(date_from="2021-03-27", date_to="2021-03-27") == {dated.pk}
    assert ids(author="lecun") == {famous.pk}
    assert ids(watch=1) == {famous.pk}
    assert ids(state="shortlisted") == {plain.pk, dated.pk}
    assert ids(mine=1) == {plain.pk}
    assert ids(min_votes=2) == {plain.pk}
    assert ids(min_votes=-1) >= {plain.pk, dated.pk, coded.pk}
    assert ids(q="convolutions") == {famous.pk}
    assert plain.pk not in ids(state="new")
    # Bad filter values are a form error, not a 500.
    response = client.get(queue_url(issue), {"date_from": "yesterday", "min_votes": "many"})
    assert response.status_code == 200 and "Enter a valid date" in response.content.decode()


def test_watchlist_hits_are_highlighted(client, curator):
    issue = make_issue()
    make_paper(title="Diffusion everywhere")
    WatchlistEntry.objects.create(user=curator, kind="keyword", term="diffusion")
    login(client, curator)
    response = client.get(queue_url(issue))
    html = response.content.decode()
    assert "watch-hit" in html and 'title="on your watchlist (keyword)">diffusion<' in html


def test_unseen_by_me_and_new_since_my_last_session(client, curator, other_curator):
    issue = make_issue()
    first = make_paper()
    login(client, curator)
    assert row_ids(client.get(queue_url(issue), {"unseen": 1})) == [first.pk]
    # The page showed it: now seen by me, still unseen by Cora.
    assert row_ids(client.get(queue_url(issue), {"unseen": 1})) == []
    login(client, other_curator)
    assert row_ids(client.get(queue_url(issue), {"unseen": 1})) == [first.pk]
    # A later session: only papers added since the previous one are "new since".

    TriageSession.objects.filter(user=curator).update(
        started_at=datetime(2020, 1, 1, tzinfo=UTC), last_seen_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    Paper.objects.filter(pk=first.pk).update(created=datetime(2019, 1, 1, tzinfo=UTC))
    later = make_paper()
    login(client, curator)
    assert row_ids(client.get(queue_url(issue), {"since": 1})) == [later.pk]


# Actions -----------------------------------------------------------------------------


def test_json_actions_shortlist_reject_vote_note_and_undo(client, curator):
    issue, paper, other = make_issue(), make_paper(), make_paper()
    login(client, curator)

    def post(**data):
        return client.post(action_url(issue), data, HTTP_ACCEPT="application/json")

    response = post(action="shortlist", paper=paper.pk)
    assert response.json()["papers"] == [
        {"id": paper.pk, "state": "shortlisted", "votes": 0, "my_vote": 0, "notes": []}
    ]
    assert post(action="vote", paper=paper.pk, value=1).json()["papers"][0]["votes"] == 1
    assert post(action="note", paper=paper.pk, text="Read it").json()["papers"][0]["notes"] == [
        {"by": "carl", "text": "Read it"}
    ]
    post(action="reject", paper=other.pk)
    assert TriageDecision.objects.get(paper=other).state == "rejected"
    response = post(action="undo")
    assert response.json()["papers"][0] == {
        "id": other.pk,
        "state": "new",
        "votes": 0,
        "my_vote": 0,
        "notes": [],
    }
    # Bad input: a clear 400, never a 500.
    assert post(action="vote", paper=paper.pk, value=7).status_code == 400
    assert post(action="note", paper=paper.pk, text="").status_code == 400
    assert post(action="explode", paper=paper.pk).status_code == 400
    assert post(action="shortlist", paper="abc").status_code == 400
    assert post(action="shortlist", paper=999999).status_code == 400
    assert client.get(action_url(issue)).status_code == 405


def test_plain_form_posts_work_without_javascript(client, curator):
    issue, paper = make_issue(), make_paper()
    login(client, curator)
    back = queue_url(issue) + "?state=new"
    response = client.post(action_url(issue), {"action": "shortlist", "paper": paper.pk, "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert TriageDecision.objects.get(paper=paper).state == "shortlisted"
    response = client.post(
        action_url(issue),
        {"action": "reject", "paper": paper.pk, "next": "https://evil.example/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == queue_url(issue)
    assert "Reject" in response.content.decode()


def test_bulk_form_on_500_papers(client, curator):
    issue = make_issue()
    import_entries([make_record() for _ in range(500)])
    ids = list(Paper.objects.values_list("pk", flat=True))
    login(client, curator)
    response = client.post(
        action_url(issue), {"action": "reject", "papers": ids}, HTTP_ACCEPT="application/json"
    )
    assert response.json()["message"] == "Reject: 500 paper(s)."
    assert not Candidate.objects.for_issue(issue).exists()
    client.post(action_url(issue), {"action": "undo"}, HTTP_ACCEPT="application/json")
    assert Candidate.objects.for_issue(issue).count() == 500


# The shortlist ---------------------------------------------------------------------------


def test_shortlist_sorted_by_votes_and_editor_promotes_in_one_action(client, curator, other_curator, editor):
    issue = make_issue()
    one, two, three = make_paper(), make_paper(), make_paper()
    for paper in (one, two, three):
        decisions.shortlist(paper, issue, by=curator)
    decisions.vote(two, issue, by=curator, value=1)
    decisions.vote(two, issue, by=other_curator, value=1)
    decisions.vote(three, issue, by=other_curator, value=1)
    decisions.add_note(two, issue, by=other_curator, text="Lead pick?")
    login(client, curator)
    response = client.get(shortlist_url(issue))
    assert row_ids(response) == [two.pk, three.pk, one.pk]
    html = response.content.decode()
    assert "Lead pick?" in html and "Promote to pick" not in html

    login(client, editor)
    assert "Promote to pick" in client.get(shortlist_url(issue)).content.decode()
    response = client.post(
        action_url(issue), {"action": "promote", "paper": two.pk}, HTTP_ACCEPT="application/json"
    )
    pick = Pick.objects.get(issue=issue, paper=two)
    assert response.json()["pick_url"] == reverse("admin:issues_pick_change", args=[pick.pk])
    assert two.pk not in row_ids(client.get(queue_url(issue)))

    login(client, curator)
    response = client.post(
        action_url(issue), {"action": "promote", "paper": one.pk}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 403
    assert Vote.objects.filter(paper=two).count() == 2


def test_issue_changelist_links_to_the_queue(client, editor):
    issue = make_issue()
    login(client, editor)
    html = client.get(reverse("admin:issues_issue_changelist")).content.decode()
    assert queue_url(issue) in html and shortlist_url(issue) in html


def test_the_queue_shows_what_the_ranker_stored(client, curator):
    from django.utils.html import escape

    from triage import ranking

    issue = make_issue()
    papers = [
        make_paper(title=f"Diffusion study {i}", code_url="https://github.com/a/b" if i % 2 else "")
        for i in range(6)
    ]
    WatchlistEntry.objects.create(user=curator, kind="keyword", term="diffusion")
    ranking.train_ranker()
    ranking.score_papers([p.pk for p in papers])
    login(client, curator)
    html = client.get(queue_url(issue)).content.decode()
    shown = 0
    for paper in papers:
        stored = PaperScore.objects.get(paper=paper)
        assert f"{stored.score:.3f}" in html
        for item in stored.explanation.get("up", []) + stored.explanation.get("down", []):
            assert escape(item["label"]) in html
            assert f"{item['contribution']:.3f}" in html
            shown += 1
        if stored.explanation.get("note"):
            assert escape(stored.explanation["note"]) in html
    assert shown  # the ranker explained something (watchlist hits, code, recency)
