"""A paper's code and project links: editors set them through set_paper_links, the one door.

What arXiv owns is read-only in the admin and never saved from it; an
editor's links survive later harvests.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from papers.ingest import import_entries
from papers.links import set_paper_links
from papers.models import Paper
from tests.conftest import make_issue, make_paper, make_record

pytestmark = pytest.mark.django_db

CODE = "https://github.com/editor/chosen"


def test_an_editors_links_are_kept_by_later_harvests(editor):
    paper = make_paper(code_url="https://github.com/detected/one")
    set_paper_links(paper, by=editor, code_url=CODE, project_url="")
    import_entries([make_record(paper.arxiv_id, version=2, code_url="https://github.com/detected/two")])
    paper.refresh_from_db()
    assert (paper.version, paper.code_url, paper.project_url, paper.links_set_by_editor) == (
        2,
        CODE,
        "",
        True,
    )


def test_only_the_links_are_written(editor):
    paper = make_paper(title="As arXiv had it")
    stale = Paper.objects.get(pk=paper.pk)
    # A harvest lands between the editor opening the paper and saving its links.
    import_entries([make_record(paper.arxiv_id, version=2, title="As arXiv has it now")])
    stale.title = "Typed over by hand"
    set_paper_links(stale, by=editor, code_url=CODE, project_url="https://example.org/project")
    paper.refresh_from_db()
    assert (paper.title, paper.version, paper.code_url) == ("As arXiv has it now", 2, CODE)


@pytest.mark.parametrize("persona", ["curator", "reader"])
def test_curators_and_readers_cannot_set_links(request, persona):
    paper = make_paper()
    with pytest.raises(PermissionDenied, match="Only editors can change a paper's links"):
        set_paper_links(paper, by=request.getfixturevalue(persona), code_url=CODE, project_url="")
    with pytest.raises(PermissionDenied):
        set_paper_links(paper, by=None, code_url=CODE, project_url="")
    paper.refresh_from_db()
    assert paper.code_url == "" and not paper.links_set_by_editor


@pytest.mark.parametrize(
    "code_url, message",
    [("not a link", "Enter a valid URL"), ("https://github.com/" + "x" * 600, "at most 500 characters")],
)
def test_a_bad_link_is_refused_with_the_field_named(editor, code_url, message):
    paper = make_paper()
    with pytest.raises(ValidationError) as refused:
        set_paper_links(paper, by=editor, code_url=code_url, project_url="")
    assert message in " ".join(refused.value.message_dict["code_url"])
    paper.refresh_from_db()
    assert paper.code_url == ""


def test_a_published_paper_page_shows_the_new_link(client, editor, django_capture_on_commit_callbacks):
    issue = make_issue(picks=1, status="published")
    paper = issue.picks.get().paper
    assert CODE not in client.get(paper.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        set_paper_links(paper, by=editor, code_url=CODE, project_url="")
    assert CODE in client.get(paper.get_absolute_url()).content.decode()


# The admin ---------------------------------------------------------------------------------


def paper_form(paper, **changes):
    """Every field the change page could post, arXiv's included, plus the authors' inline."""
    data = {
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "abstract": paper.abstract,
        "primary_category": paper.primary_category,
        "categories": '["cs.LG"]',
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "links_set_by_editor": "on",
        "authorships-TOTAL_FORMS": "0",
        "authorships-INITIAL_FORMS": "0",
    }
    return data | changes


def test_in_the_admin_an_editor_changes_the_links_and_nothing_arxiv_owns(client, editor):
    paper = make_paper(title="As arXiv has it")
    client.force_login(editor)
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    html = client.get(url).content.decode()
    assert 'name="code_url"' in html and 'name="title"' not in html and 'name="abstract"' not in html
    response = client.post(url, paper_form(paper, code_url=CODE, title="Hijacked", version=9))
    assert response.status_code == 302
    paper.refresh_from_db()
    assert (paper.code_url, paper.links_set_by_editor, paper.title, paper.version) == (
        CODE,
        True,
        "As arXiv has it",
        1,
    )


def test_in_the_admin_a_curator_sees_papers_and_changes_nothing(client, curator):
    paper = make_paper()
    client.force_login(curator)
    url = reverse("admin:papers_paper_change", args=[paper.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="code_url"' not in page.content.decode()
    assert client.post(url, paper_form(paper, code_url=CODE)).status_code == 403
    paper.refresh_from_db()
    assert paper.code_url == ""


def test_papers_are_not_added_from_a_form(client, editor):
    client.force_login(editor)
    assert client.get(reverse("admin:papers_paper_add")).status_code == 403
