"""Every save keeps a revision; the history shows a field-by-field diff and restores."""

import pytest

from issues.editing import add_pick, restore_revision, revision_diffs, save_issue, update_pick
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
