"""The triage app takes over its tables from issues and papers without losing a row.

Migrates a real database back to before the move (issues 0005, papers 0005, no
triage), fills every table that moves through the historical models, migrates
forward again and reads every row back through the triage app. Runs on SQLite
and PostgreSQL alike; the database is left at the latest migration.
"""

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from triage.models import (
    AddedCandidate,
    PaperScore,
    RankerModel,
    SeenPaper,
    TriageDecision,
    TriageEvent,
    TriageNote,
    TriageSession,
    Vote,
    WatchlistEntry,
)

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE_THE_MOVE = [("issues", "0005_stored_issue_page"), ("papers", "0005_snapshot_resume"), ("triage", None)]
WHEN = datetime(2021, 3, 2, 12, 0, tzinfo=UTC)
MOVED = {
    "triagedecision": "issues",
    "vote": "issues",
    "triagenote": "issues",
    "triageevent": "issues",
    "triagesession": "issues",
    "addedcandidate": "issues",
    "seenpaper": "issues",
    "watchlistentry": "papers",
    "rankermodel": "papers",
    "paperscore": "papers",
}


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    # A fresh loader: the state is read from what is applied now ("zero" has no node of its own).
    return MigrationExecutor(connection).loader.project_state([t for t in targets if t[1]]).apps


def fill_the_old_tables(apps):
    """One row in every table that moves, written as the old apps wrote them; returns their ids."""
    User = apps.get_model("auth", "User")
    Issue = apps.get_model("issues", "Issue")
    Paper = apps.get_model("papers", "Paper")
    carl = User.objects.create(username="carl-before-the-move")
    issue = Issue.objects.create(
        title="March",
        slug="march-before-the-move",
        period_start=date(2021, 3, 1),
        period_end=date(2021, 3, 31),
    )
    paper = Paper.objects.create(
        arxiv_id="2103.99999",
        title="A paper triaged before the move",
        primary_category="cs.LG",
        categories=["cs.LG"],
        submitted_at=WHEN,
        updated_at=WHEN,
    )
    old = {name: apps.get_model(app, name) for name, app in MOVED.items()}
    ranker = old["rankermodel"].objects.create(version=7, kind="linear", training_size=40, active=True)
    rows = {
        "triagedecision": old["triagedecision"].objects.create(
            issue=issue, paper=paper, state="shortlisted", by=carl, at=WHEN, note="Strong baseline"
        ),
        "vote": old["vote"].objects.create(issue=issue, paper=paper, user=carl, value=1, at=WHEN),
        "triagenote": old["triagenote"].objects.create(issue=issue, paper=paper, user=carl, text="Check it"),
        "triageevent": old["triageevent"].objects.create(
            issue=issue, paper=paper, user=carl, action="shortlist", detail={"previous_by": None}, at=WHEN
        ),
        "triagesession": old["triagesession"].objects.create(
            user=carl, issue=issue, started_at=WHEN, last_seen_at=WHEN
        ),
        "addedcandidate": old["addedcandidate"].objects.create(issue=issue, paper=paper, by=carl),
        "seenpaper": old["seenpaper"].objects.create(user=carl, paper=paper, at=WHEN),
        "watchlistentry": old["watchlistentry"].objects.create(user=carl, kind="keyword", term="diffusion"),
        "rankermodel": ranker,
        "paperscore": old["paperscore"].objects.create(paper=paper, ranker=ranker, score=0.75),
    }
    return {name: row.pk for name, row in rows.items()}, carl.pk, issue.pk, paper.pk


def test_every_row_of_every_moved_table_survives_the_move():
    old_apps = migrate(BEFORE_THE_MOVE)
    try:
        ids, user_id, issue_id, paper_id = fill_the_old_tables(old_apps)
    finally:
        latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
        migrate(latest)

    decision = TriageDecision.objects.get(pk=ids["triagedecision"])
    assert (
        decision.issue_id,
        decision.paper_id,
        decision.state,
        decision.by_id,
        decision.note,
        decision.at,
    ) == (
        issue_id,
        paper_id,
        "shortlisted",
        user_id,
        "Strong baseline",
        WHEN,
    )
    assert Vote.objects.get(pk=ids["vote"]).value == 1
    assert TriageNote.objects.get(pk=ids["triagenote"]).text == "Check it"
    event = TriageEvent.objects.get(pk=ids["triageevent"])
    assert (event.action, event.user_id, event.detail) == ("shortlist", user_id, {"previous_by": None})
    assert TriageSession.objects.get(pk=ids["triagesession"]).last_seen_at == WHEN
    assert AddedCandidate.objects.get(pk=ids["addedcandidate"]).paper_id == paper_id
    assert SeenPaper.objects.get(pk=ids["seenpaper"]).user_id == user_id
    assert WatchlistEntry.objects.get(pk=ids["watchlistentry"]).term == "diffusion"
    ranker = RankerModel.objects.get(pk=ids["rankermodel"])
    assert (ranker.version, ranker.active) == (7, True)
    assert PaperScore.objects.get(pk=ids["paperscore"]).ranker == ranker
    # The tables were renamed, not copied: nothing is left under the old names.
    tables = set(connection.introspection.table_names())
    assert {f"{app}_{name}" for name, app in MOVED.items()} & tables == set()
    assert {f"triage_{name}" for name in MOVED} <= tables
    # The content types moved with them, so the roles' grants did too.
    assert not ContentType.objects.filter(app_label__in=["issues", "papers"], model__in=MOVED).exists()
    curators = Group.objects.get(name="Curators")
    on_decisions = Permission.objects.filter(group=curators, content_type__model="triagedecision")
    assert set(on_decisions.values_list("codename", flat=True)) == {"view_triagedecision"}
