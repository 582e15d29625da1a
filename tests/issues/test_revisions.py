"""Every save keeps a revision; the history shows a field-by-field diff and restores."""

import pytest

from issues.editing import (
    add_pick,
    remove_pick,
    reorder_picks,
    restore_revision,
    revision_diffs,
    save_issue,
    update_pick,
)
from issues.models import Revision
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def test_every_save_records_who_when_and_what(curator, editor):
    issue = save_issue(make_issue(), by=curator, data={"title": "T1", "intro": "I1"}, lock_version=0)
    pick = add_pick(issue, make_paper(), by=curator, why="W1")
    update_pick(pick, by=editor, data={"why": "W2"}, lock_version=pick.lock_version)
    latest = Revision.objects.order_by("-pk")
    assert (latest[0].object_type, latest[0].user, latest[0].changed_fields) == ("pick", editor, ["why"])
    assert latest[0].data["why"] == "W2"
    issue_revision = Revision.objects.filter(object_type="issue").order_by("-pk").first()
    assert issue_revision.changed_fields == ["title", "intro"] and issue_revision.user == curator


def test_diff_and_restore_is_itself_a_new_revision(curator, editor):
    issue = make_issue()
    pick = add_pick(issue, make_paper(), by=curator, why="Original why.")
    pick = update_pick(pick, by=editor, data={"why": "Rewritten why."}, lock_version=pick.lock_version)
    history = revision_diffs(issue.revisions.all())
    newest, rows = history[0]
    assert rows == [("why", "Original why.", "Rewritten why.")]
    original = Revision.objects.filter(object_type="pick", comment="added").get()
    count = Revision.objects.count()
    pick = restore_revision(original, by=curator)
    assert pick.why == "Original why."
    assert Revision.objects.count() == count + 1
    restored = Revision.objects.order_by("-pk").first()
    assert restored.comment.startswith("restored") and restored.changed_fields == ["why"]
    pick.issue.refresh_from_db()
    assert pick.why_html == "<p>Original why.</p>\n"


def test_restoring_an_issue_revision_rerenders_it(curator):
    issue = save_issue(make_issue(), by=curator, data={"intro": "Old *intro*."}, lock_version=0)
    first = Revision.objects.filter(object_type="issue").order_by("-pk").first()
    issue = save_issue(issue, by=curator, data={"intro": "New intro."}, lock_version=issue.lock_version)
    issue = restore_revision(first, by=curator)
    assert issue.intro == "Old *intro*." and "<em>intro</em>" in issue.intro_html


def _history(client, issue):
    response = client.get(f"/admin/issues/issue/{issue.pk}/revisions/")
    assert response.status_code == 200
    return response.content.decode()


def test_history_names_picks_by_their_paper_not_their_position(client, editor):
    issue = make_issue()
    glm = add_pick(issue, make_paper(title="GLM"), by=editor, why="About GLM.")
    ptuning = add_pick(issue, make_paper(title="P-tuning"), by=editor, why="About P-tuning.")
    update_pick(glm, by=editor, data={"why": "GLM, again."}, lock_version=glm.lock_version)
    reorder_picks(issue, [ptuning.pk, glm.pk], by=editor)  # GLM is pick 2 now
    client.force_login(editor)
    html = _history(client, issue)
    assert f"Pick “GLM” (arXiv {glm.paper.arxiv_id})" in html
    assert f"Pick “P-tuning” (arXiv {ptuning.paper.arxiv_id})" in html
    assert "Pick 1" not in html and "Pick 2" not in html
    # The edit of GLM's text is labelled GLM although GLM has moved.
    row = html.split("GLM, again.")[0].rsplit("<tr>", 1)[1]
    assert "Pick “GLM”" in row


def test_history_names_a_removed_pick_by_its_paper(client, editor):
    issue = make_issue()
    pick = add_pick(issue, make_paper(title="Gone"), by=editor, why="Soon removed.")
    remove_pick(pick, by=editor)
    client.force_login(editor)
    html = _history(client, issue)
    assert html.count(f"Pick “Gone” (arXiv {pick.paper.arxiv_id})") == 2  # added, removed


def test_a_reorder_shows_the_new_order_as_a_list_with_where_each_came_from(client, editor):
    issue = make_issue()
    a, b, c = (add_pick(issue, make_paper(title=t), by=editor) for t in ("Alpha", "Beta", "Gamma"))
    reorder_picks(issue, [c.pk, a.pk, b.pk], by=editor)
    [(revision, rows)] = [
        r for r in revision_diffs(issue.revisions.all()) if r[0].comment == "reordered picks"
    ]
    ids = [p.paper.arxiv_id for p in (a, b, c)]
    assert rows == [("pick_order", ids, [ids[2], ids[0], ids[1]])]
    client.force_login(editor)
    html = _history(client, issue)
    assert "<strong>order of the picks</strong>" in html
    assert (
        '<ol class="compose-order">'
        f"<li>Gamma <small>arXiv {ids[2]}</small> <ins>(was 3)</ins></li>"
        f"<li>Alpha <small>arXiv {ids[0]}</small> <ins>(was 1)</ins></li>"
        f"<li>Beta <small>arXiv {ids[1]}</small> <ins>(was 2)</ins></li>"
        "</ol>"
    ) in html
    assert "[&#x27;" not in html and "['" not in html  # no raw Python lists


@pytest.mark.parametrize("count", [2, 6])
def test_history_costs_the_same_queries_for_many_revisions(client, editor, django_assert_num_queries, count):
    issue = make_issue()
    picks = [add_pick(issue, make_paper(), by=editor, why=f"W{n}") for n in range(count)]
    reorder_picks(issue, [p.pk for p in reversed(picks)], by=editor)
    remove_pick(picks[0], by=editor)
    client.force_login(editor)
    _history(client, issue)
    # 1 session, 2 user, 3 the issue, 4-5 the user's permissions (own, groups), 6 the revisions with
    # users, picks and papers, 7 the papers' titles, 8 the user's groups (the admin's menu)
    with django_assert_num_queries(8):
        client.get(f"/admin/issues/issue/{issue.pk}/revisions/")
