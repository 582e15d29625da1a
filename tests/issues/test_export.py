"""Exports: Markdown with the same footnote numbering, BibTeX of the picks, JSON."""

import json

import pytest
from django.core.management import call_command

from issues.export import export_bibtex, export_json, export_markdown
from issues.markdown import render_fields
from issues.models import Issue
from tests.conftest import make_issue

pytestmark = pytest.mark.django_db


def test_markdown_export_of_the_demo_round_trips_its_numbering():
    call_command("load_demo")
    issue = Issue.objects.get(slug="april-2021")
    text = export_markdown(issue)
    assert text.startswith("# April 2021\n")
    assert "## 1. [All NLP Tasks Are Generation Tasks" in text
    assert "[^gpt3]" not in text and "[^1]" in text
    # Read the export back as one Markdown document: same numbers, same references.
    again = Issue(intro=text, outro="")
    assert render_fields(again, []) == []
    strip = [{k: r[k] for k in ("number", "text", "url", "arxiv_id")} for r in issue.references]
    assert [{k: r[k] for k in ("number", "text", "url", "arxiv_id")} for r in again.references] == strip
    assert [len(r["backrefs"]) for r in again.references] == [len(r["backrefs"]) for r in issue.references]
    assert "![Diagram of the Barlow Twins objective" in text


def test_bibtex_lists_every_pick_in_order():
    call_command("load_demo")
    bib = export_bibtex(Issue.objects.get(slug="april-2021"))
    assert bib.count("@misc{") == 10
    assert "@misc{du2021tasks," in bib
    assert "eprint = {2103.10360v1}" in bib and "archivePrefix = {arXiv}" in bib
    assert bib.index("2103.10360") < bib.index("2102.12627")


def test_json_export_has_picks_and_references(client, editor):
    issue = make_issue(picks=2, intro="A[^a].\n\n[^a]: https://a.example Alpha")
    data = export_json(issue)
    json.dumps(data)
    assert [p["position"] for p in data["picks"]] == [1, 2]
    assert data["references"][0]["text"] == "Alpha"
    assert data["picks"][0]["why_html"] == "<p>Why number 1.</p>\n"


def test_admin_downloads(client, editor):
    issue = make_issue(picks=1)
    client.force_login(editor)
    for fmt, kind in (("md", "text/markdown"), ("bib", "application/x-bibtex"), ("json", "application/json")):
        response = client.get(f"/admin/issues/issue/{issue.pk}/export/{fmt}/")
        assert response.status_code == 200 and response["Content-Type"].startswith(kind)
        assert f'filename="march-2021.{fmt}"' in response["Content-Disposition"]
