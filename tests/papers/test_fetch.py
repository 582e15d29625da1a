"""Adding papers by id or URL: every form curators paste, errors that name the input."""

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from papers.arxiv_api import ArxivClient
from papers.harvest import add_papers_by_id
from papers.models import Author, HarvestRun, Paper
from tests.papers.harvest_entries import entry

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"
OLD_DAY = __import__("datetime").date(2021, 3, 18)


@pytest.fixture
def arxiv_papers(fake_arxiv):
    fake_arxiv.set_entries(
        [
            entry(OLD_DAY, "2103.10360", version=2, title="GLM"),
            entry(OLD_DAY, "hep-th/9901001", title="An old one", categories=["hep-th"]),
            entry(OLD_DAY, "1810.04805", title="BERT"),
        ]
    )
    return fake_arxiv


@pytest.mark.parametrize(
    "text",
    [
        "2103.10360",
        "2103.10360v2",
        "arXiv:2103.10360",
        "https://arxiv.org/abs/2103.10360v1",
        "https://arxiv.org/pdf/2103.10360.pdf",
    ],
)
def test_every_form_of_an_id_adds_the_paper(harvest_settings, arxiv_papers, curator, text):
    [result] = add_papers_by_id([text], by=curator)

    assert result == {
        "input": text,
        "arxiv_id": "2103.10360",
        "status": "created",
        "message": "2103.10360: created",
    }
    paper = Paper.objects.get(arxiv_id="2103.10360")
    assert (paper.title, paper.version) == ("GLM", 2)  # always the latest version


def test_an_old_style_id(harvest_settings, arxiv_papers, curator):
    [result] = add_papers_by_id(["hep-th/9901001"], by=curator)
    assert result["status"] == "created"
    assert Paper.objects.get(arxiv_id="hep-th/9901001").primary_category == "hep-th"


def test_many_at_once_a_malformed_one_is_named_and_the_others_go_in(harvest_settings, arxiv_papers, curator):
    add_papers_by_id(["1810.04805"], by=curator)

    results = add_papers_by_id(["2103.10360", "not-an-id", "1810.04805", "2101.99999"], by=curator)

    assert [(r["input"], r["status"]) for r in results] == [
        ("2103.10360", "created"),
        ("not-an-id", "error"),
        ("1810.04805", "unchanged"),
        ("2101.99999", "error"),
    ]
    assert "“not-an-id” is not an arXiv id" in results[1]["message"]
    assert results[3]["message"] == "2101.99999 was not found on arXiv."
    assert set(Paper.objects.values_list("arxiv_id", flat=True)) == {"2103.10360", "1810.04805"}
    # All the ids went in one request.
    assert len(arxiv_papers.requests) == 2
    run = HarvestRun.objects.filter(kind="fetch").first()
    assert (run.status, run.created_count, run.unchanged_count) == ("partial", 1, 1)
    assert run.requested_by == curator


def test_arxiv_down_reports_each_id_and_loses_nothing(harvest_settings, arxiv_papers, curator):
    arxiv_papers.add_fault("status", status=503, times=99)
    results = add_papers_by_id(["2103.10360"], by=curator, client=ArxivClient(sleep=lambda s: None))
    assert results[0]["status"] == "error"
    assert "HTTP 503" in results[0]["message"]
    assert HarvestRun.objects.get(kind="fetch").status == "failed"


def test_readers_may_not_add_papers(harvest_settings, arxiv_papers, reader):
    with pytest.raises(PermissionDenied):
        add_papers_by_id(["2103.10360"], by=reader)
    assert not Paper.objects.exists()


def test_the_real_recorded_legacy_id_response_with_affiliations(harvest_settings, fake_arxiv, curator):
    body = (FIXTURES / "lukasschwab_arxiv.py__idlist_astro-ph_0601001_affiliations.xml").read_text()
    fake_arxiv.add_fault("status", status=200, body=body)

    [result] = add_papers_by_id(["astro-ph/0601001"], by=curator)

    assert result["status"] == "created"
    paper = Paper.objects.get(arxiv_id="astro-ph/0601001")
    assert paper.primary_category == "astro-ph"
    assert paper.journal_ref
    affiliations = [a.affiliation for a in paper.authorships.all()]
    assert affiliations and all(affiliations)


def test_the_real_400_error_feed_is_reported_with_arxivs_message(harvest_settings, fake_arxiv, curator):
    body = (FIXTURES / "lukasschwab_arxiv.py__idlist_abc_error_http400.xml").read_text()
    fake_arxiv.add_fault("status", status=400, body=body)

    [result] = add_papers_by_id(["2103.10360"], by=curator)

    assert result["status"] == "error"
    assert result["message"] == "arXiv rejected the query (HTTP 400): incorrect id format for abc"


def test_fetch_arxiv_command(harvest_settings, arxiv_papers, capsys):
    with pytest.raises(CommandError, match="1 of 2 could not be added"):
        call_command("fetch_arxiv", "arXiv:1810.04805", "bogus")
    out = capsys.readouterr().out
    assert "created   1810.04805" in out
    assert "error     bogus: “bogus” is not an arXiv id or arXiv URL." in out
    assert Author.objects.filter(name="Ada Lovelace").exists()
