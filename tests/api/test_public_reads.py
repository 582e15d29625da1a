"""Public reads: what anyone can fetch, in which order, with which filters — and what never shows."""

from datetime import UTC, date, datetime

import pytest

from issues.models import Figure, Issue, Pick
from tests.conftest import make_issue, make_paper, png_file

from .conftest import assert_error

pytestmark = pytest.mark.django_db

INTERNAL_KEYS = {"lock_version", "curator", "status", "notes", "votes", "triage", "editor", "publish_error"}


def _keys(value):
    """Every key anywhere in a JSON document."""
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


def test_issue_list_shows_published_issues_newest_first(anon, published, draft):
    older = make_issue(
        "february-2021",
        picks=1,
        status="published",
        period_start=date(2021, 2, 1),
        period_end=date(2021, 2, 28),
    )
    Issue.objects.filter(pk=older.pk).update(published_at=datetime(2021, 3, 5, tzinfo=UTC))
    make_issue("in-review", picks=1, status="review")

    body = anon.get("/api/v1/issues/").json()

    assert [i["slug"] for i in body["results"]] == ["march-2021", "february-2021"]
    first = body["results"][0]
    assert first["url"] == "http://127.0.0.1:8000/issues/march-2021/"
    assert first["api_url"] == "http://127.0.0.1:8000/api/v1/issues/march-2021/"
    assert first["pick_count"] == 3
    assert first["published_at"].endswith("Z")
    assert not INTERNAL_KEYS & _keys(body)

    oldest_first = anon.get("/api/v1/issues/?ordering=published").json()
    assert [i["slug"] for i in oldest_first["results"]] == ["february-2021", "march-2021"]
    by_period = anon.get("/api/v1/issues/?ordering=period").json()
    assert [i["slug"] for i in by_period["results"]] == ["february-2021", "march-2021"]


def test_issue_detail_has_ordered_picks_commentary_figures_and_references(anon, published):
    first = published.picks.get(position=1)
    Figure.objects.create(
        pick=first, image=png_file(), alt_text="A plot", caption="The loss.", credit="The paper"
    )
    Issue.objects.filter(pk=published.pk).update(
        references=[
            {
                "number": 1,
                "key": "bert",
                "text": "“BERT” by Devlin et al., 2018.",
                "url": "https://arxiv.org/abs/1810.04805",
                "arxiv_id": "1810.04805",
                "backrefs": ["fnref-1-1"],
            }
        ]
    )

    body = anon.get("/api/v1/issues/march-2021/").json()

    assert [p["position"] for p in body["picks"]] == [1, 2, 3]
    pick = body["picks"][0]
    assert pick["why"] == "Why number 1."
    assert pick["why_html"] == "<p>Why number 1.</p>\n"
    assert pick["key_insights_html"].startswith("<p>Insight number 1.")
    paper = pick["paper"]
    assert paper["abs_url"] == f"https://arxiv.org/abs/{paper['arxiv_id']}"
    assert paper["pdf_url"] == f"https://arxiv.org/pdf/{paper['arxiv_id']}"
    assert [a["name"] for a in paper["authors"]][-1] == "Shared Author"
    figure = pick["figures"][0]
    assert figure["url"].startswith("http://127.0.0.1:8000/media/figures/")
    assert (figure["alt"], figure["caption"], figure["credit"]) == ("A plot", "The loss.", "The paper")
    assert body["intro"] == "An *intro*."
    assert body["intro_html"] == "<p>An <em>intro</em>.</p>\n"
    assert body["references"][0]["number"] == 1
    assert body["references"][0]["arxiv_id"] == "1810.04805"
    assert not INTERNAL_KEYS & _keys(body)


def test_drafts_and_their_papers_are_not_public(anon, published, draft):
    for status in ("review", "scheduled"):
        make_issue(f"issue-{status}", picks=1, status=status)
    draft_paper = draft.picks.first().paper
    draft_author = draft_paper.authorships.first().author

    assert_error(anon.get("/api/v1/issues/draft-issue/"), 404, "not_found")
    assert_error(anon.get("/api/v1/issues/issue-scheduled/"), 404)
    assert_error(anon.get(f"/api/v1/papers/{draft_paper.arxiv_id}/"), 404)
    assert_error(anon.get(f"/api/v1/authors/{draft_author.slug}/"), 404)
    picks = anon.get("/api/v1/picks/?page_size=100").json()["results"]
    assert {p["issue"]["slug"] for p in picks} == {"march-2021"}
    papers = anon.get("/api/v1/papers/?page_size=100").json()["results"]
    assert draft_paper.arxiv_id not in {p["arxiv_id"] for p in papers}
    authors = anon.get("/api/v1/authors/?page_size=100").json()["results"]
    assert draft_author.slug not in {a["slug"] for a in authors}
    assert "Shared Author" in {a["name"] for a in authors}


def test_pick_filters(anon, published):
    picks = list(published.picks.order_by("position"))
    vision = make_paper(primary_category="cs.CV", categories=["cs.CV"], title="Seeing things")
    Pick.objects.filter(pk=picks[2].pk).update(paper=vision, code_url="https://github.com/x/y")
    picks[1].paper.authorships.filter(position=1).update(author=vision.authorships.get(position=1).author)
    later = make_issue(
        "january-2022",
        picks=1,
        status="published",
        period_start=date(2022, 1, 1),
        period_end=date(2022, 1, 31),
    )

    def arxiv_ids(query):
        response = anon.get(f"/api/v1/picks/?{query}")
        assert response.status_code == 200, response.content
        return {p["paper"]["arxiv_id"] for p in response.json()["results"]}

    assert arxiv_ids("issue=january-2022") == {later.picks.get().paper.arxiv_id}
    assert arxiv_ids("category=cs.CV") == {vision.arxiv_id}
    author_slug = vision.authorships.get(position=1).author.slug
    assert arxiv_ids(f"author={author_slug}") == {vision.arxiv_id, picks[1].paper.arxiv_id}
    assert arxiv_ids("year=2022") == {later.picks.get().paper.arxiv_id}
    assert arxiv_ids("has_code=true") == {vision.arxiv_id}
    assert vision.arxiv_id not in arxiv_ids("has_code=false")
    assert arxiv_ids("q=Seeing") == {vision.arxiv_id}
    assert arxiv_ids("issue=march-2021&has_code=false") == {picks[0].paper.arxiv_id, picks[1].paper.arxiv_id}


def test_pick_ordering_and_cursor_pages(anon, published):
    newer = make_issue(
        "april-2021", picks=2, status="published", period_start=date(2021, 4, 1), period_end=date(2021, 4, 30)
    )
    default = anon.get("/api/v1/picks/?page_size=2").json()
    assert [(p["issue"]["slug"], p["position"]) for p in default["results"]] == [
        (newer.slug, 1),
        (newer.slug, 2),
    ]
    second = anon.get(default["next"]).json()
    assert [(p["issue"]["slug"], p["position"]) for p in second["results"]] == [
        ("march-2021", 1),
        ("march-2021", 2),
    ]
    assert second["previous"]
    oldest = anon.get("/api/v1/picks/?ordering=published&page_size=1").json()["results"][0]
    assert oldest["issue"]["slug"] == "march-2021"
    submitted = anon.get("/api/v1/picks/?ordering=submitted&page_size=100").json()["results"]
    dates = [p["paper"]["submitted_at"] for p in submitted]
    assert dates == sorted(dates)


def test_paper_detail_resolves_every_id_form(anon, published):
    paper = published.picks.get(position=1).paper
    for form in (
        paper.arxiv_id,
        f"{paper.arxiv_id}v3",
        f"arXiv:{paper.arxiv_id}",
        f"https://arxiv.org/abs/{paper.arxiv_id}v2",
    ):
        response = anon.get(f"/api/v1/papers/{form}/")
        assert response.status_code == 200, form
        assert response.json()["arxiv_id"] == paper.arxiv_id
    body = anon.get(f"/api/v1/papers/{paper.arxiv_id}/").json()
    assert body["picks"] == [
        {
            "id": published.picks.get(position=1).pk,
            "issue": "march-2021",
            "issue_title": "March 2021",
            "position": 1,
            "url": "http://127.0.0.1:8000/issues/march-2021/#pick-1",
        }
    ]


def test_old_style_ids_with_a_slash(anon):
    issue = make_issue("old-ids", picks=0)
    old = make_paper("hep-th/9901001")
    Pick.objects.create(issue=issue, paper=old, position=1, why="w", key_insights="k")
    from issues.publishing import publish_issue
    from tests.conftest import make_publisher

    publish_issue(issue, by=make_publisher())
    assert anon.get("/api/v1/papers/hep-th/9901001/").json()["arxiv_id"] == "hep-th/9901001"
    assert anon.get("/api/v1/papers/hep-th/9901001v2/").status_code == 200


def test_bad_arxiv_id_is_a_404_naming_it(anon, published):
    error = assert_error(anon.get("/api/v1/papers/not-an-id/"), 404, "not_found")
    assert "not-an-id" in error["message"]


def test_papers_and_authors_lists(anon, published):
    papers = anon.get("/api/v1/papers/").json()["results"]
    assert len(papers) == 3
    dates = [p["submitted_at"] for p in papers]
    assert dates == sorted(dates, reverse=True)
    ascending = anon.get("/api/v1/papers/?ordering=submitted").json()["results"]
    assert [p["arxiv_id"] for p in ascending] == [p["arxiv_id"] for p in reversed(papers)]
    category = anon.get("/api/v1/papers/?category=cs.CV").json()["results"]
    assert category == []

    authors = anon.get("/api/v1/authors/?page_size=100").json()["results"]
    names = [a["name"] for a in authors]
    assert names == sorted(names)
    assert len(names) == 7  # two of their own per paper, plus the shared author
    descending = anon.get("/api/v1/authors/?ordering=-name&page_size=100").json()["results"]
    assert [a["name"] for a in descending] == list(reversed(names))
    assert [a["name"] for a in anon.get("/api/v1/authors/?q=shared").json()["results"]] == ["Shared Author"]

    shared = anon.get("/api/v1/authors/shared-author/").json()
    assert shared["url"] == "http://127.0.0.1:8000/authors/shared-author/"
    assert [p["position"] for p in shared["picks"]] == [1, 2, 3]
    assert shared["picks"][0]["paper"]["arxiv_id"]


def test_page_size_is_capped(anon, published, settings):
    settings.API_MAX_PAGE_SIZE = 2
    assert len(anon.get("/api/v1/picks/?page_size=2").json()["results"]) == 2
    error = assert_error(anon.get("/api/v1/picks/?page_size=3"), 400, "invalid")
    assert "page_size" in error["message"]
    assert_error(anon.get("/api/v1/picks/?page_size=0"), 400)


def test_cors_allows_reads_from_any_origin(anon, published):
    response = anon.get("/api/v1/issues/", HTTP_ORIGIN="https://example.com")
    assert response["Access-Control-Allow-Origin"] == "*"


PAPER_KEYS = [
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "authors",
    "primary_category",
    "categories",
    "submitted_at",
    "updated_at",
    "comment",
    "journal_ref",
    "doi",
    "code_url",
    "project_url",
    "has_code",
    "url",
    "api_url",
    "abs_url",
    "pdf_url",
]
PICK_KEYS = [
    "id",
    "position",
    "title",
    "paper",
    "paper_version",
    "why",
    "why_html",
    "key_insights",
    "key_insights_html",
    "code_url",
    "demo_url",
    "figures",
    "url",
    "updated_at",
]
ISSUE_KEYS = [
    "slug",
    "title",
    "subtitle",
    "byline",
    "period_start",
    "period_end",
    "published_at",
    "updated_at",
    "pick_count",
    "url",
    "api_url",
]


def test_response_shapes_are_kept(anon, published):
    """The keys and their order are a contract with API clients (and what the schema documents)."""
    Figure.objects.create(pick=published.picks.first(), image=png_file(), alt_text="A plot")
    issue = anon.get("/api/v1/issues/march-2021/").json()
    assert list(issue) == [*ISSUE_KEYS, "intro", "intro_html", "outro", "outro_html", "picks", "references"]
    assert list(anon.get("/api/v1/issues/").json()["results"][0]) == ISSUE_KEYS
    assert list(issue["picks"][0]) == PICK_KEYS
    pick = anon.get("/api/v1/picks/").json()["results"][0]
    assert list(pick) == ["id", "issue", *PICK_KEYS[1:]]
    assert list(pick["issue"]) == ["slug", "title", "url", "published_at"]
    assert list(pick["paper"]) == PAPER_KEYS
    assert list(pick["paper"]["authors"][0]) == ["slug", "name", "url", "api_url"]
    assert list(issue["picks"][0]["figures"][0]) == [
        "url",
        "width",
        "height",
        "alt",
        "caption",
        "credit",
        "credit_url",
    ]
    paper = anon.get(f"/api/v1/papers/{pick['paper']['arxiv_id']}/").json()
    assert list(paper) == [*PAPER_KEYS, "picks"]
    assert list(paper["picks"][0]) == ["id", "issue", "issue_title", "position", "url"]
    author = anon.get("/api/v1/authors/shared-author/").json()
    assert list(author) == ["slug", "name", "url", "api_url", "picks"]
    assert list(author["picks"][0]) == ["id", "issue", "issue_title", "position", "url", "paper"]
    assert list(author["picks"][0]["paper"]) == ["arxiv_id", "title", "url", "api_url"]
