import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from issues.models import Pick
from papers.arxiv_ids import parse_arxiv_id
from papers.models import Author, Paper, normalize_author_name
from tests.conftest import make_issue, make_paper, make_record

pytestmark = pytest.mark.django_db


def test_arxiv_id_is_unique():
    paper = make_paper("2103.10360")
    duplicate = Paper(
        arxiv_id="2103.10360",
        title="Again",
        primary_category="cs.CL",
        submitted_at=paper.submitted_at,
        updated_at=paper.updated_at,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    assert Paper.objects.filter(arxiv_id="2103.10360").count() == 1


def test_picked_paper_cannot_be_deleted():
    issue = make_issue(picks=1)
    paper = issue.picks.get().paper
    with pytest.raises(ProtectedError):
        paper.delete()
    assert Pick.objects.filter(paper=paper).exists()


def test_links_are_derived_from_the_id():
    paper = make_paper("hep-th/9901001")
    assert paper.abs_url == "https://arxiv.org/abs/hep-th/9901001"
    assert paper.pdf_url == "https://arxiv.org/pdf/hep-th/9901001"


def test_authors_are_ordered_and_one_person_across_papers():
    first = make_paper(authors=[("Mario Lučić", "ETH"), ("Ann Other", "")])
    second = make_paper(authors=[("Zed Zero", ""), ("MARIO  LUCIC", "")])
    assert [a.name for a in first.ordered_authors()] == ["Mario Lučić", "Ann Other"]
    assert [a.name for a in second.ordered_authors()] == ["Zed Zero", "Mario Lučić"]
    assert Author.objects.filter(key=normalize_author_name("Mario Lucic")).count() == 1
    assert first.authorships.get(position=1).affiliation == "ETH"


def test_category_filter_matches_primary_and_cross_lists():
    lg = make_paper(primary_category="cs.LG", categories=["cs.LG", "stat.ML"])
    cv = make_paper(primary_category="cs.CV", categories=["cs.CV", "cs.LG"])
    make_paper(primary_category="cs.CL", categories=["cs.CL"])
    assert set(Paper.objects.in_category("cs.LG")) == {lg, cv}
    assert list(Paper.objects.in_category("stat.ML")) == [lg]
    # A prefix of a category is not that category.
    assert not Paper.objects.in_category("cs.L").exists()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2103.10360", ("2103.10360", None)),
        ("2103.10360v2", ("2103.10360", 2)),
        ("arXiv:2103.10360", ("2103.10360", None)),
        ("https://arxiv.org/abs/2103.10360v1", ("2103.10360", 1)),
        ("https://arxiv.org/pdf/2103.10360.pdf", ("2103.10360", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.GT/0309136v3", ("math.GT/0309136", 3)),
        ("  0704.0001 ", ("0704.0001", None)),
    ],
)
def test_every_id_form_resolves(text, expected):
    assert tuple(parse_arxiv_id(text)) == expected


@pytest.mark.parametrize("text", ["abc", "2103.1036", "https://example.org/abs/2103.10360", "", "hep-th/99"])
def test_malformed_ids_are_refused_by_name(text):
    with pytest.raises(ValueError, match="is not an arXiv id"):
        parse_arxiv_id(text)


def test_same_version_is_unchanged_and_newer_version_updates():
    from papers.ingest import import_entries

    record = make_record("2103.20000", title="Old title")
    assert import_entries([record]).created == ["2103.20000"]
    assert import_entries([record]).unchanged == ["2103.20000"]
    newer = make_record("2103.20000", title="New title", version=2)
    assert import_entries([newer]).updated == ["2103.20000"]
    assert Paper.objects.get(arxiv_id="2103.20000").title == "New title"
