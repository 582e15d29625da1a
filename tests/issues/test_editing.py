"""Composing: adding, editing, reordering and removing picks, and edit conflicts."""

import pytest
from django.core.exceptions import ValidationError

from issues.editing import EditConflict, add_pick, remove_pick, reorder_picks, save_issue, update_pick
from issues.models import Issue
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def test_add_pick_prefills_links_and_snapshots_the_paper(curator):
    issue = make_issue()
    paper = make_paper(code_url="https://github.com/x/y", project_url="https://x.example/demo", version=2)
    pick = add_pick(issue, paper, by=curator)
    assert (pick.position, pick.code_url, pick.demo_url) == (
        1,
        "https://github.com/x/y",
        "https://x.example/demo",
    )
    assert (pick.paper_version, pick.paper_title) == (2, paper.title)
    # arXiv renames the paper later: our pick keeps the title it was written about.
    paper.title, paper.version = "A new title", 3
    paper.save()
    pick.refresh_from_db()
    assert pick.title != "A new title" and pick.has_newer_version


def test_adding_the_same_paper_twice_is_refused(curator):
    issue = make_issue()
    paper = make_paper()
    add_pick(issue, paper, by=curator)
    with pytest.raises(ValidationError, match="already a pick"):
        add_pick(issue, paper, by=curator)


def test_second_save_of_the_same_pick_is_a_conflict_and_nothing_is_lost(curator, other_curator):
    issue = make_issue()
    pick = add_pick(issue, make_paper(), by=curator, why="First draft.")
    opened = pick.lock_version  # both open the pick
    update_pick(pick, by=curator, data={"why": "Carl's better text."}, lock_version=opened)
    with pytest.raises(EditConflict) as conflict:
        update_pick(
            pick,
            by=other_curator,
            data={"why": "Cora's text.", "key_insights": "Cora's insights."},
            lock_version=opened,
        )
    error = conflict.value
    assert "carl saved this pick after you opened it (changed: why)" in str(error)
    assert error.changes == [
        {
            "field": "why",
            "theirs": "Carl's better text.",
            "yours": "Cora's text.",
            "by": "carl",
            "at": error.changes[0]["at"],
        }
    ]
    assert error.submitted["key_insights"] == "Cora's insights."  # her edit, kept whole
    pick.refresh_from_db()
    assert pick.why == "Carl's better text."  # and Carl's is untouched
    # Saving again on purpose, with the current version, works.
    pick = update_pick(pick, by=other_curator, data=error.submitted, lock_version=error.lock_version)
    assert pick.why == "Cora's text."


def test_stale_issue_save_is_a_conflict(curator, other_curator):
    issue = make_issue()
    issue = save_issue(issue, by=curator, data={"intro": "Hello."}, lock_version=issue.lock_version)
    stale = issue.lock_version
    save_issue(issue, by=curator, data={"title": "New title"}, lock_version=stale)
    with pytest.raises(EditConflict) as conflict:
        save_issue(issue, by=other_curator, data={"intro": "Mine."}, lock_version=stale)
    assert [c["field"] for c in conflict.value.changes] == ["title"]
    assert Issue.objects.get().intro == "Hello."


def test_reorder_and_remove_keep_positions_dense(curator):
    issue = make_issue()
    a, b, c = (add_pick(issue, make_paper(), by=curator) for _ in range(3))
    reorder_picks(issue, [c.pk, a.pk, b.pk], by=curator)
    assert list(issue.picks.order_by("position").values_list("pk", flat=True)) == [c.pk, a.pk, b.pk]
    remove_pick(c, by=curator)
    assert list(issue.picks.order_by("position").values_list("pk", "position")) == [(a.pk, 1), (b.pk, 2)]
    with pytest.raises(ValidationError):
        reorder_picks(issue, [a.pk], by=curator)


def test_bad_input_is_a_validation_error_not_a_crash(curator):
    issue = make_issue()
    with pytest.raises(ValidationError):
        save_issue(issue, by=curator, data={"period_end": "2020-01-01"}, lock_version=issue.lock_version)
    pick = add_pick(issue, make_paper(), by=curator)
    with pytest.raises(ValidationError):
        update_pick(pick, by=curator, data={"code_url": "not a url"}, lock_version=pick.lock_version)


def _issue_form(issue, **changes):
    data = {
        "title": issue.title,
        "subtitle": issue.subtitle,
        "slug": issue.slug,
        "byline": issue.byline,
        "period_start": "2021-03-01",
        "period_end": "2021-03-31",
        "intro": issue.intro,
        "outro": issue.outro,
        "edit_lock": issue.lock_version,
    }
    data.update(changes)
    return data


def test_admin_conflict_keeps_the_text_and_shows_what_changed(client, curator, other_curator):
    issue = make_issue()
    opened = _issue_form(issue)
    client.force_login(curator)
    assert (
        client.post(
            f"/admin/issues/issue/{issue.pk}/change/", {**opened, "intro": "Carl's intro."}
        ).status_code
        == 302
    )
    client.force_login(other_curator)
    response = client.post(f"/admin/issues/issue/{issue.pk}/change/", {**opened, "intro": "Cora's intro."})
    html = response.content.decode()
    assert response.status_code == 200
    assert "carl saved this issue after you opened it (changed: intro)" in html
    assert "Carl&#x27;s intro." in html and "Cora&#x27;s intro." in html  # theirs shown, hers kept
    assert Issue.objects.get().intro == "Carl's intro."


def test_admin_add_pick_by_arxiv_id_and_reorder(client, editor):
    issue = make_issue()
    make_paper("2103.10360")
    make_paper("2103.00020")
    client.force_login(editor)
    client.post(f"/admin/issues/issue/{issue.pk}/add-pick/", {"arxiv": "https://arxiv.org/abs/2103.10360v2"})
    client.post(f"/admin/issues/issue/{issue.pk}/add-pick/", {"arxiv": "arXiv:2103.00020"})
    response = client.post(f"/admin/issues/issue/{issue.pk}/add-pick/", {"arxiv": "not an id"}, follow=True)
    assert "is not an arXiv id" in response.content.decode()
    first, second = issue.picks.order_by("position")
    assert first.paper.arxiv_id == "2103.10360"
    client.post(f"/admin/issues/issue/{issue.pk}/reorder/", {"move": f"{second.pk}:up"})
    assert list(issue.picks.order_by("position").values_list("pk", flat=True)) == [second.pk, first.pk]
    response = client.post(
        f"/admin/issues/issue/{issue.pk}/reorder/",
        {"order": f"{first.pk},{second.pk}"},
        HTTP_ACCEPT="application/json",
    )
    assert response.json() == {"order": [first.pk, second.pk]}
    page = client.get(f"/admin/issues/issue/{issue.pk}/change/").content.decode()
    assert page.index(f'data-pick="{first.pk}"') < page.index(f'data-pick="{second.pk}"')


def test_admin_history_shows_diff_and_restores(client, editor):
    issue = make_issue()
    pick = add_pick(issue, make_paper(), by=editor, why="Old words here.")
    update_pick(pick, by=editor, data={"why": "New words here."}, lock_version=pick.lock_version)
    client.force_login(editor)
    page = client.get(f"/admin/issues/issue/{issue.pk}/revisions/").content.decode()
    assert "<del>Old</del> <ins>New</ins> words here." in page
    from issues.models import Revision

    added = Revision.objects.get(comment="added")
    client.post(f"/admin/issues/issue/{issue.pk}/revisions/{added.pk}/restore/")
    pick.refresh_from_db()
    assert pick.why == "Old words here."
