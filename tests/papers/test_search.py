"""Search over papers: ranked full-text on PostgreSQL, a contains match on SQLite; bounded queries."""

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.models import Paper
from papers.search import (
    MAX_TERMS,
    SearchTooSlow,
    Term,
    filter_by_search,
    parse_query,
    search_papers,
    search_time_limit,
)
from tests.conftest import make_paper

pytestmark = pytest.mark.django_db


@pytest.fixture
def library():
    return {
        "abstract_hit": make_paper(
            title="Improving image classifiers",
            abstract="We train a diffusion prior to improve classification.",
        ),
        "title_hit": make_paper(title="Diffusion models beat GANs", abstract="We compare generators."),
        "quantum": make_paper(title="Quantum diffusion processes", abstract="Diffusion on quantum hardware."),
        "other": make_paper(title="Graph neural networks", abstract="Message passing on graphs."),
    }


def titles(qs):
    return [p.title for p in qs]


@pytest.mark.postgres
def test_title_match_ranks_above_abstract_match(library):
    found = list(search_papers(Paper.objects.all(), "diffusion"))
    assert found.index(library["title_hit"]) < found.index(library["abstract_hit"])
    assert library["other"] not in found


@pytest.mark.postgres
def test_websearch_exclusion_and_phrases(library):
    found = set(search_papers(Paper.objects.all(), "diffusion -quantum"))
    assert found == {library["title_hit"], library["abstract_hit"]}
    assert list(search_papers(Paper.objects.all(), '"neural networks"')) == [library["other"]]
    # Stemming: "models" finds "model".
    assert library["title_hit"] in search_papers(Paper.objects.all(), "model")


@pytest.mark.postgres
def test_search_keeps_the_queryset_filters_and_caps_the_ranked_rows(library):
    only = Paper.objects.filter(pk=library["quantum"].pk)
    assert list(search_papers(only, "diffusion")) == [library["quantum"]]
    assert len(list(search_papers(Paper.objects.all(), "diffusion", cap=1))) == 1


@pytest.mark.postgres
def test_search_by_author_name():
    paper = make_paper(authors=[("Yann LeCun", ""), ("Someone Else", "")])
    make_paper()
    assert list(search_papers(Paper.objects.all(), "lecun")) == [paper]


def test_sqlite_fallback_contains_with_quotes_and_exclusions(library, settings):
    qs = Paper.objects.all()
    found = set(search_papers(qs, "diffusion -quantum"))
    assert found == {library["title_hit"], library["abstract_hit"]}
    assert set(search_papers(qs, '"message passing"')) == {library["other"]}
    assert search_papers(qs, "   ") is qs


def test_parse_query_reads_phrases_exclusions_alternatives_and_bad_quotes():
    assert parse_query('"graph neural" -quantum nets').alternatives == (
        (Term("graph neural"), Term("quantum", excluded=True), Term("nets")),
    )
    assert parse_query("gan or vae").alternatives == ((Term("gan"),), (Term("vae"),))
    assert parse_query('unbalanced "quote').websearch == "unbalanced quote"
    assert parse_query("t-SNE (GPT-3.5) O'Neil").websearch == "t-SNE GPT-3.5 O'Neil"
    assert parse_query('diffusion -"image generation" or gan').words == ["diffusion", "gan"]


@pytest.mark.parametrize(
    "noise",
    [
        "-" * 33,
        "(-" * 50,
        "-" * 400,
        "or or or",
        '"" - -- ()',
        "-video",
        "-video or -audio",
        "   ",
        "!@#$%^&*()",
    ],
)
def test_operator_only_noise_is_nothing_to_search_for(noise):
    assert not parse_query(noise)
    assert parse_query(noise).websearch == ""


def test_a_query_is_bounded_in_terms_and_word_length():
    parsed = parse_query(" ".join(f"w{i}" for i in range(100)) + " " + "x" * 500)
    assert sum(len(a) for a in parsed.alternatives) == MAX_TERMS
    assert len(parse_query("y" * 500).websearch) == 40
    assert parse_query('"' + " ".join(["word"] * 50) + '"').websearch == '"word word word word word word"'


def test_sqlite_fallback_or_means_either_and_minus_excludes(library):
    qs = Paper.objects.all()
    assert set(search_papers(qs, "graph or quantum")) == {library["other"], library["quantum"]}
    assert set(search_papers(qs, "diffusion -quantum or passing")) == {
        library["title_hit"],
        library["abstract_hit"],
        library["other"],
    }
    assert set(filter_by_search(qs, "diffusion -hardware")) == {library["title_hit"], library["abstract_hit"]}


@pytest.mark.parametrize("hostile", ["-" * 33, "(-" * 50, "-" * 400, "a" * 10_000, '"' * 99, "or -" * 40])
def test_hostile_queries_never_fail_and_noise_filters_nothing(library, hostile):
    # On PostgreSQL 33 dashes used to raise "tsquery stack too small".
    qs = Paper.objects.all()
    found = list(search_papers(qs, hostile))
    assert list(filter_by_search(qs, hostile, narrowed=True)) is not None
    if not parse_query(hostile):
        assert len(found) == qs.count()


@pytest.mark.postgres
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(
            ["-", "(", ")", '"', "|", "&", "!", ":", "*", "<->", " ", "\\", "or", "OR", "and", "a", "b"]
        ),
        max_size=120,
    ).map("".join)
)
def test_postgres_never_rejects_a_parsed_query(library, text):
    # Whatever the text, websearch_to_tsquery gets something it can parse.
    with connection.cursor() as cursor:
        cursor.execute("SELECT websearch_to_tsquery('english', %s)::text", [parse_query(text).websearch])
    list(search_papers(Paper.objects.all(), text)[:1])


@pytest.mark.postgres
def test_a_search_slower_than_the_statement_timeout_is_cancelled(library):
    with pytest.raises(SearchTooSlow, match="longer than 0.05 s"):
        with search_time_limit(50):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(1)")
    # The limit was local to that transaction: the connection is usable and unlimited again.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.postgres
def test_narrowed_filter_gives_the_same_papers_with_or_without_the_index(library, monkeypatch):
    from papers import search

    indexed = set(search.filter_by_search(Paper.objects.all(), "diffusion -quantum", narrowed=True))
    # Every word counts as common: the search is tested row by row instead of through the GIN index.
    monkeypatch.setattr(search, "COMMON_MATCHES", -1)
    row_by_row = search.filter_by_search(Paper.objects.all(), "diffusion -quantum", narrowed=True)
    assert "COALESCE" in str(row_by_row.query)
    assert set(row_by_row) == indexed == {library["title_hit"], library["abstract_hit"]}
