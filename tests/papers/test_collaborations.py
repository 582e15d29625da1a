"""Collaboration prefixes: arXiv's "MiniMax: Aili Chen, …" is the team and its people, never an author ":"."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from issues.models import Issue as CurrentIssue
from papers.collaborations import split_collaborations
from papers.fake_arxiv.server import load_entries
from papers.harvest import add_papers_by_id
from papers.models import Author, Paper
from tests.conftest import make_paper

MINIMAX = "2506.13585"


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        # As arXiv's listings and feeds give it: the colon as a name of its own.
        (["MiniMax", ":", "Aili Chen", "Aonian Li"], ["MiniMax", "Aili Chen", "Aonian Li"]),
        # As one name.
        (["MiniMax: Aili Chen", "Aonian Li"], ["MiniMax", "Aili Chen", "Aonian Li"]),
        (["Xiaomi LLM-Core Team:", "Zihao Yue"], ["Xiaomi LLM-Core Team", "Zihao Yue"]),
        (["Ada Lovelace", ";", "", "Alan Turing"], ["Ada Lovelace", "Alan Turing"]),
        (["Ada Lovelace", "Alan Turing"], ["Ada Lovelace", "Alan Turing"]),
        # A colon inside a name, without the space of a prefix, is left alone.
        (["Team A:B"], ["Team A:B"]),
    ],
)
def test_split_collaborations(authors, expected):
    assert [name for name, _ in split_collaborations([(a, "") for a in authors])] == expected


def test_the_person_keeps_the_affiliation():
    assert split_collaborations([("MiniMax: Aili Chen", "MiniMax Inc.")]) == [
        ("MiniMax", ""),
        ("Aili Chen", "MiniMax Inc."),
    ]


@pytest.mark.django_db
def test_harvesting_the_real_minimax_entry_stores_no_colon_author(harvest_settings, fake_arxiv, curator):
    [raw] = [e for e in load_entries() if e["arxiv_id"] == MINIMAX]
    assert raw["authors"][:3] == ["MiniMax", ":", "Aili Chen"]  # as arXiv lists it
    fake_arxiv.set_entries([raw])
    [result] = add_papers_by_id([MINIMAX], by=curator)
    assert result["status"] == "created"
    paper = Paper.objects.get(arxiv_id=MINIMAX)
    names = [a.name for a in paper.ordered_authors()]
    assert names[:3] == ["MiniMax", "Aili Chen", "Aonian Li"]
    assert ":" not in names and len(names) == len(raw["authors"]) - 1
    assert paper.authors_text.startswith("MiniMax, Aili Chen, ")
    assert not Author.objects.filter(slug="author").exists()


@pytest.mark.django_db
def test_import_entries_repairs_a_one_name_prefix():
    paper = make_paper(authors=[("MiniMax: Aili Chen", ""), ("Aonian Li", "")])
    assert [a.name for a in paper.ordered_authors()] == ["MiniMax", "Aili Chen", "Aonian Li"]


# The data migration -----------------------------------------------------------

BEFORE = [("papers", "0007_harvest_run_heartbeat_and_entry_problems"), ("issues", "0007_scheduler_heartbeat")]
AFTER = [("papers", "0008_collaboration_authors"), ("issues", "0008_shorter_citations")]


@pytest.mark.django_db(transaction=True)
def test_migration_repairs_stored_author_lists_and_citations():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Author = apps.get_model("papers", "Author")
    Authorship = apps.get_model("papers", "Authorship")
    Paper_ = apps.get_model("papers", "Paper")
    Issue = apps.get_model("issues", "Issue")
    when = datetime(2025, 6, 16, tzinfo=UTC)

    def author(name, key, slug):
        return Author.objects.get_or_create(key=key, defaults={"name": name, "slug": slug})[0]

    colon = author(":", ":", "author")
    minimax = author("MiniMax", "minimax", "minimax")
    people = [author(f"Person {n}", f"person {n}", f"person-{n}") for n in range(1, 6)]
    joined = author("FutureSearch: Nikos Bosse", "futuresearch: nikos bosse", "futuresearch-nikos-bosse")
    papers = []
    for n, names in enumerate([[minimax, colon, *people], [joined, people[0]]]):
        paper = Paper_.objects.create(
            arxiv_id=f"2506.0000{n}",
            version=1,
            title=f"Paper {n}",
            authors_text=", ".join(a.name for a in names),
            primary_category="cs.LG",
            categories=["cs.LG"],
            submitted_at=when,
            updated_at=when,
        )
        for position, a in enumerate(names, start=1):
            Authorship.objects.create(paper=paper, author=a, position=position)
        papers.append(paper)
    Issue.objects.create(
        title="June",
        slug="june-2025",
        period_start=when.date(),
        period_end=when.date(),
        references=[
            {
                "number": 1,
                "key": "m",
                "arxiv_id": "2506.00000",
                "url": "",
                "backrefs": [],
                "text": "“Paper 0” by MiniMax, :, Person 1, Person 2, Person 3, Person 4, and Person 5, 2025.",
            },
            {
                "number": 2,
                "key": "w",
                "arxiv_id": "",
                "url": "https://w.example",
                "backrefs": [],
                "text": "Web",
            },
        ],
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    # Back to the latest state for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    first = Paper.objects.get(arxiv_id="2506.00000")
    assert [a.name for a in first.ordered_authors()] == ["MiniMax", *(f"Person {n}" for n in range(1, 6))]
    assert list(first.authorships.values_list("position", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert first.authors_text == "MiniMax, Person 1, Person 2, Person 3, Person 4, Person 5"
    second = Paper.objects.get(arxiv_id="2506.00001")
    assert [a.name for a in second.ordered_authors()] == ["FutureSearch", "Nikos Bosse", "Person 1"]
    assert not Author.objects.filter(slug__in=["author", "futuresearch-nikos-bosse"]).exists()
    refs = CurrentIssue.objects.get(slug="june-2025").references
    assert refs[0]["text"] == "“Paper 0” by MiniMax et al., 2025."
    assert refs[1]["text"] == "Web"
