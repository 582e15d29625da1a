"""Search over papers: ranked full-text on PostgreSQL, a contains match on SQLite."""

import pytest

from papers.models import Paper
from papers.search import parse_words, search_papers
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


def test_parse_words_handles_quotes_exclusions_and_bad_quotes():
    assert parse_words('"graph neural" -quantum nets') == (["graph neural", "nets"], ["quantum"])
    assert parse_words('unbalanced "quote') == (["unbalanced", "quote"], [])


@pytest.mark.postgres
def test_narrowed_filter_gives_the_same_papers_with_or_without_the_index(library, monkeypatch):
    from papers import search

    indexed = set(search.filter_by_search(Paper.objects.all(), "diffusion -quantum", narrowed=True))
    # Every word counts as common: the search is tested row by row instead of through the GIN index.
    monkeypatch.setattr(search, "COMMON_MATCHES", -1)
    row_by_row = search.filter_by_search(Paper.objects.all(), "diffusion -quantum", narrowed=True)
    assert "COALESCE" in str(row_by_row.query)
    assert set(row_by_row) == indexed == {library["title_hit"], library["abstract_hit"]}
