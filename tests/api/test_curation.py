"""The curation workflow over the API: each action for the right role, refused for the wrong one."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from issues.models import Issue
from papers import harvest
from tests.conftest import make_paper
from triage.models import PaperScore, RankerModel, TriageDecision, Vote

from .conftest import assert_error, token_client

pytestmark = pytest.mark.django_db

# Named: the first configured backend is the login lockout, which signs nobody in.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


# Adding papers ----------------------------------------------------------------------


def test_curators_add_papers_by_id_with_a_result_per_id(as_curator, curator, monkeypatch):
    calls = []

    def fake_add(texts, *, by=None):
        calls.append((list(texts), by))
        return [
            {"input": "2103.03230", "arxiv_id": "2103.03230", "status": "created", "message": ""},
            {
                "input": "nonsense",
                "arxiv_id": "",
                "status": "error",
                "message": "“nonsense” is not an arXiv id.",
            },
        ]

    monkeypatch.setattr(harvest, "add_papers_by_id", fake_add)
    response = as_curator.post("/api/v1/papers/", {"ids": ["2103.03230", "nonsense"]}, format="json")
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created", "error"]
    assert calls == [(["2103.03230", "nonsense"], curator)]


def test_readers_cannot_add_papers(as_reader, anon):
    assert_error(as_reader.post("/api/v1/papers/", {"ids": ["2103.03230"]}, format="json"), 403)
    assert_error(anon.post("/api/v1/papers/", {"ids": ["2103.03230"]}, format="json"), 401)


# Picks -----------------------------------------------------------------------------


def test_curators_read_draft_picks_readers_cannot(as_curator, as_reader, anon, draft):
    body = as_curator.get("/api/v1/issues/draft-issue/picks/").json()
    assert [p["position"] for p in body] == [1, 2]
    assert body[0]["lock_version"] == 0
    assert_error(as_reader.get("/api/v1/issues/draft-issue/picks/"), 403)
    assert_error(anon.get("/api/v1/issues/draft-issue/picks/"), 401)
    pick_id = body[0]["id"]
    assert as_curator.get(f"/api/v1/issues/draft-issue/picks/{pick_id}/").json()["id"] == pick_id
    assert_error(as_reader.get(f"/api/v1/issues/draft-issue/picks/{pick_id}/"), 403)


def test_add_edit_reorder_and_remove_picks(as_curator, draft):
    paper = make_paper(title="A new pick")
    created = as_curator.post(
        "/api/v1/issues/draft-issue/picks/",
        {"arxiv_id": f"arXiv:{paper.arxiv_id}v1", "why": "Because *it* matters."},
        format="json",
    )
    assert created.status_code == 201, created.content
    pick = created.json()
    assert (pick["position"], pick["title"]) == (3, "A new pick")
    assert pick["why_html"] == "<p>Because <em>it</em> matters.</p>\n"

    duplicate = as_curator.post(
        "/api/v1/issues/draft-issue/picks/", {"arxiv_id": paper.arxiv_id}, format="json"
    )
    assert_error(duplicate, 400)
    assert_error(
        as_curator.post("/api/v1/issues/draft-issue/picks/", {"arxiv_id": "2101.99999"}, format="json"), 404
    )

    url = f"/api/v1/issues/draft-issue/picks/{pick['id']}/"
    edited = as_curator.patch(url, {"key_insights": "- one", "lock_version": 0}, format="json")
    assert edited.status_code == 200, edited.content
    assert edited.json()["lock_version"] == 1
    stale = assert_error(as_curator.patch(url, {"why": "Mine.", "lock_version": 0}, format="json"), 409)
    assert stale["code"] == "edit_conflict"
    assert stale["details"]["lock_version"] == 1
    assert_error(as_curator.patch(url, {"why": 12, "lock_version": "x"}, format="json"), 400)

    ids = [p.pk for p in draft.picks.order_by("position")]
    order = [ids[2], ids[0], ids[1]]
    reordered = as_curator.post(
        "/api/v1/issues/draft-issue/picks/reorder/", {"pick_ids": order}, format="json"
    )
    assert [p["id"] for p in reordered.json()] == order
    assert_error(
        as_curator.post("/api/v1/issues/draft-issue/picks/reorder/", {"pick_ids": order[:2]}, format="json"),
        400,
    )

    assert as_curator.delete(url).status_code == 204
    assert list(draft.picks.order_by("position").values_list("pk", flat=True)) == [ids[0], ids[1]]


def test_only_editors_correct_a_published_issue(as_curator, as_editor, published):
    pick = published.picks.get(position=1)
    url = f"/api/v1/issues/march-2021/picks/{pick.pk}/"
    assert_error(as_curator.patch(url, {"why": "Tweak.", "lock_version": 0}, format="json"), 403)
    response = as_editor.patch(url, {"why": "Corrected.", "lock_version": 0}, format="json")
    assert response.status_code == 200
    assert as_editor.get("/api/v1/issues/march-2021/").json()["picks"][0]["why"] == "Corrected."


# Triage ----------------------------------------------------------------------------------


def _scored(issue, score, **fields):
    paper = make_paper(submitted_at=datetime(2021, 3, 10, tzinfo=UTC), **fields)
    ranker, _ = RankerModel.objects.get_or_create(version=1)
    PaperScore.objects.create(paper=paper, ranker=ranker, score=score, explanation={"terms": ["x"]})
    return paper


def test_candidates_are_ranked_with_score_explanation_and_state(as_curator, as_reader, draft):
    low = _scored(draft, 0.2)
    high = _scored(draft, 0.9, code_url="https://github.com/a/b")
    TriageDecision.objects.create(issue=draft, paper=low, state="shortlisted")

    body = as_curator.get("/api/v1/issues/draft-issue/candidates/").json()
    ranked = [c["arxiv_id"] for c in body["results"]]
    assert ranked[:2] == [high.arxiv_id, low.arxiv_id]
    top = body["results"][0]
    assert (top["score"], top["explanation"], top["state"]) == (0.9, {"terms": ["x"]}, "new")
    unscored = make_paper(submitted_at=datetime(2021, 3, 11, tzinfo=UTC))
    last = as_curator.get("/api/v1/issues/draft-issue/candidates/?page_size=100").json()["results"][-1]
    assert (last["arxiv_id"], last["score"], last["explanation"]) == (unscored.arxiv_id, None, {})

    def ids(query):
        return [
            c["arxiv_id"]
            for c in as_curator.get(f"/api/v1/issues/draft-issue/candidates/?{query}").json()["results"]
        ]

    assert ids("state=shortlisted") == [low.arxiv_id]
    assert high.arxiv_id in ids("state=new")
    assert ids("code=true") == [high.arxiv_id]
    assert ids("min_votes=1") == []
    assert_error(as_curator.get("/api/v1/issues/draft-issue/candidates/?has_code=true"), 400)
    assert ids("category=cs.CV") == []
    assert ids(f"q={high.title.split()[-1]}") == [high.arxiv_id]
    assert_error(as_curator.get("/api/v1/issues/draft-issue/candidates/?state=maybe"), 400)
    assert_error(as_reader.get("/api/v1/issues/draft-issue/candidates/"), 403)


def test_triage_actions(as_curator, curator, as_reader, draft):
    paper = _scored(draft, 0.5)
    base = f"/api/v1/issues/draft-issue/candidates/{paper.arxiv_id}"

    shortlisted = as_curator.post(f"{base}/shortlist/", {"note": "Strong."}, format="json").json()
    assert shortlisted["state"] == "shortlisted"
    assert TriageDecision.objects.get(issue=draft, paper=paper).note == "Strong."

    assert as_curator.post(f"{base}/vote/", {"value": 1}, format="json").status_code == 200
    assert Vote.objects.get(issue=draft, paper=paper, user=curator).value == 1
    assert_error(as_curator.post(f"{base}/vote/", {"value": 5}, format="json"), 400)

    undone = as_curator.post(f"{base}/undo/").json()
    assert undone["message"] == "Undid 1 change(s)."
    assert not Vote.objects.filter(issue=draft, paper=paper).exists()

    assert as_curator.post(f"{base}/reject/").json()["state"] == "rejected"
    assert as_curator.post(f"{base}/reset/").json()["state"] == "new"
    assert_error(as_reader.post(f"{base}/shortlist/"), 403)
    assert_error(as_curator.post(f"{base}/shortlist/", {"notes": "typo"}, format="json"), 400)


# Transitions ---------------------------------------------------------------------------------


def test_curators_submit_editors_schedule_publish_and_unpublish(as_curator, as_editor, draft):
    submitted = as_curator.post("/api/v1/issues/draft-issue/submit/")
    assert submitted.json()["status"] == "review"

    for transition in ("publish", "unpublish"):
        assert_error(as_curator.post(f"/api/v1/issues/draft-issue/{transition}/"), 403)
    when = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    assert_error(
        as_curator.post(
            "/api/v1/issues/draft-issue/schedule/", {"publish_at": when.isoformat()}, format="json"
        ),
        403,
    )
    assert_error(
        as_editor.post("/api/v1/issues/draft-issue/schedule/", {"publish_at": "soon"}, format="json"), 400
    )

    scheduled = as_editor.post(
        "/api/v1/issues/draft-issue/schedule/", {"publish_at": when.isoformat()}, format="json"
    ).json()
    assert scheduled["status"] == "scheduled"
    assert scheduled["publish_at"] == when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    published = as_editor.post("/api/v1/issues/draft-issue/publish/").json()
    assert published["status"] == "published"
    assert APIClient().get("/api/v1/issues/draft-issue/").status_code == 200

    assert as_editor.post("/api/v1/issues/draft-issue/unpublish/").json()["status"] == "draft"
    assert APIClient().get("/api/v1/issues/draft-issue/").status_code == 404
    assert Issue.objects.get(slug="draft-issue").status == "draft"


# Authentication --------------------------------------------------------------------------


def test_session_auth_needs_the_csrf_token_for_writes(curator, draft):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(curator, backend=MODEL_BACKEND)
    assert client.get("/api/v1/issues/draft-issue/picks/").status_code == 200
    assert_error(client.post("/api/v1/issues/draft-issue/submit/"), 403)


def test_tokens_are_created_and_revoked_in_the_admin(django_user_model, curator):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-1234567890")
    admin_client = Client()
    admin_client.force_login(admin, backend=MODEL_BACKEND)
    add = admin_client.post(reverse("admin:authtoken_tokenproxy_add"), {"user": curator.pk})
    assert add.status_code == 302, add.content[:500]
    token = Token.objects.get(user=curator)
    client = token_client(curator)
    assert client.get("/api/v1/issues/").status_code == 200

    delete = admin_client.post(
        reverse("admin:authtoken_tokenproxy_delete", args=[curator.pk]), {"post": "yes"}
    )
    assert delete.status_code == 302
    assert not Token.objects.filter(key=token.key).exists()
    assert_error(client.get("/api/v1/issues/"), 401, "authentication_failed")
