"""Footnotes: numbered across the whole issue in reading order, listed once at the end."""

import json

import pytest
from django.core.management import call_command

from issues.demo.loader import DEMO_FILE
from issues.editing import add_pick, save_issue, update_pick
from issues.markdown import split_definitions
from issues.models import Issue
from issues.publishing import TransitionError, publish_issue
from tests.conftest import make_issue, make_paper

pytestmark = pytest.mark.django_db


def _compose(editor, intro="", outro="", picks=()):
    issue = make_issue(intro=intro, outro=outro)
    for why, insights in picks:
        add_pick(issue, make_paper(), by=editor, why=why, key_insights=insights)
    issue.refresh_from_db()
    return issue


def test_numbered_by_first_citation_across_intro_picks_and_outro(editor):
    issue = _compose(
        editor,
        intro="Intro cites B[^b].",
        picks=[
            ("Why cites A[^a] and B again[^b].", "Insight cites C[^c].\n\n[^c]: https://c.example C site"),
            ("Second pick cites A too[^a].", "Nothing."),
        ],
        outro="Outro cites D[^d] and A[^a].\n\n[^a]: https://a.example Alpha\n[^b]: https://b.example Beta\n"
        "[^d]: https://d.example Delta",
    )
    refs = issue.references
    assert [(r["number"], r["key"]) for r in refs] == [(1, "b"), (2, "a"), (3, "c"), (4, "d")]
    a = refs[1]
    # Cited from two picks and the outro: one number, three back-links.
    assert a["backrefs"] == ["fnref-2-1", "fnref-2-2", "fnref-2-3"]
    assert refs[0]["backrefs"] == ["fnref-1-1", "fnref-1-2"]
    assert a["url"] == "https://a.example" and a["text"] == "Alpha" and a["arxiv_id"] == ""
    first, second = issue.picks.order_by("position")
    assert '<sup class="footnote-ref"><a href="#ref-2" id="fnref-2-1">2</a></sup>' in first.why_html
    assert '<sup class="footnote-ref"><a href="#ref-1" id="fnref-1-2">1</a></sup>' in first.why_html
    assert 'id="fnref-2-2">2</a>' in second.why_html
    assert 'id="fnref-2-3">2</a>' in issue.outro_html and 'id="fnref-4-1">4</a>' in issue.outro_html
    # Definitions are not part of the text readers see.
    assert "Alpha" not in issue.outro_html and "c.example" not in first.key_insights_html


def test_arxiv_definition_resolves_to_the_paper_when_we_have_it(editor):
    make_paper(
        "1810.04805",
        title="BERT: Pre-training of Deep Bidirectional Transformers",
        authors=[("Jacob Devlin", ""), ("Ming-Wei Chang", ""), ("Kenton Lee", "")],
        submitted_at=make_paper().submitted_at.replace(year=2018),
    )
    issue = _compose(
        editor,
        intro="See BERT[^bert] and T5[^t5].\n\n[^bert]: arXiv:1810.04805v2 whatever we typed\n"
        "[^t5]: arXiv:1910.10683 “Exploring the Limits of Transfer Learning” by Colin Raffel et al., 2019.",
    )
    bert, t5 = issue.references
    assert (
        bert["text"]
        == "“BERT: Pre-training of Deep Bidirectional Transformers” by Jacob Devlin, Ming-Wei Chang, and Kenton Lee, 2018."
    )
    assert bert["url"] == "https://arxiv.org/abs/1810.04805" and bert["arxiv_id"] == "1810.04805"
    # Not a Paper we have: the citation text as written, still linked to arXiv.
    assert t5["text"] == "“Exploring the Limits of Transfer Learning” by Colin Raffel et al., 2019."
    assert t5["url"] == "https://arxiv.org/abs/1910.10683"


def test_renumbers_when_picks_are_edited(editor):
    issue = _compose(
        editor,
        picks=[
            ("First[^x].", "I."),
            ("Second[^y].", "I.\n\n[^x]: https://x.example X\n[^y]: https://y.example Y"),
        ],
    )
    assert [r["key"] for r in issue.references] == ["x", "y"]
    first = issue.picks.get(position=1)
    update_pick(
        first, by=editor, data={"why": "Now cites y first[^y], then x[^x]."}, lock_version=first.lock_version
    )
    issue.refresh_from_db()
    assert [r["key"] for r in issue.references] == ["y", "x"]


def test_a_citation_without_definition_is_refused_naming_it(editor):
    issue = _compose(
        editor, intro="Cites [^ghost] and [^real].\n\n[^real]: https://r.example R", picks=[("W", "K")]
    )
    assert "[^ghost]" in issue.intro_html  # shown as typed, so the writer sees it
    with pytest.raises(TransitionError) as refused:
        publish_issue(issue, by=editor)
    assert refused.value.problems == ["The footnote [^ghost] is cited but never defined."]


def test_citation_inside_code_is_left_alone(editor):
    issue = _compose(editor, intro="Write `[^key]` to cite.")
    assert "<code>[^key]</code>" in issue.intro_html and issue.references == []


def test_demo_issue_footnotes_are_numbered_and_listed(client):
    call_command("load_demo")
    issue = Issue.objects.get(slug="april-2021")
    demo = json.loads(DEMO_FILE.read_text())
    texts = [demo["issue"]["intro"]] + [t for p in demo["papers"] for t in (p["why"], p["key_insights"])]
    texts.append(demo["issue"]["outro"])
    defined = {key for text in texts for key, _ in split_definitions(text)[1]}
    assert {r["key"] for r in issue.references} == defined
    assert [r["number"] for r in issue.references] == list(range(1, len(defined) + 1))
    assert issue.references[0]["key"] == "gpt3"
    assert 'id="fnref-1-1"' in issue.intro_html


def test_save_issue_definitions_may_live_in_any_field(editor):
    issue = _compose(editor, picks=[("W[^o].", "K")])
    issue = save_issue(
        issue, by=editor, data={"outro": "Bye.\n\n[^o]: https://o.example O"}, lock_version=issue.lock_version
    )
    assert issue.references[0]["key"] == "o"
    assert issue.picks.get().why_html.count('href="#ref-1"') == 1


def test_a_cited_paper_with_many_authors_is_first_author_et_al_everywhere(client, editor):
    make_paper(
        "2506.13585",
        title="MiniMax-M1: Scaling Test-Time Compute Efficiently with Lightning Attention",
        authors=[("MiniMax", ""), (":", ""), *((f"Author {n}", "") for n in range(1, 126))],
        submitted_at=make_paper().submitted_at.replace(year=2025),
    )
    issue = _compose(
        editor,
        intro="Long context[^m1].\n\n[^m1]: arXiv:2506.13585",
        picks=[("W.", "K.")],
    )
    issue = publish_issue(issue, by=editor)
    expected = "“MiniMax-M1: Scaling Test-Time Compute Efficiently with Lightning Attention” by MiniMax et al., 2025."
    assert issue.references[0]["text"] == expected
    page = client.get(issue.get_absolute_url()).content.decode()
    assert "by MiniMax et al., 2025." in page and "Author 2" not in page.split('id="ref-1"')[1]
    api = client.get(f"/api/v1/issues/{issue.slug}/").json()
    assert api["references"][0]["text"] == expected
    client.force_login(editor)
    markdown = client.get(f"/admin/issues/issue/{issue.pk}/export/md/").content.decode()
    assert f"[^1]: arXiv:2506.13585 {expected}" in markdown
    exported = client.get(f"/admin/issues/issue/{issue.pk}/export/json/").json()
    assert exported["references"][0]["text"] == expected


def test_three_authors_are_all_named_and_four_are_not(editor):
    when = make_paper().submitted_at
    make_paper(
        "2101.00003",
        title="Three",
        authors=[("A One", ""), ("B Two", ""), ("C Three", "")],
        submitted_at=when,
    )
    make_paper("2101.00004", title="Four", authors=[(n, "") for n in ("A One", "B Two", "C Three", "D Four")])
    issue = _compose(
        editor, intro="3[^a] 4[^b]\n\n[^a]: arXiv:2101.00003\n[^b]: arXiv:2101.00004", picks=[("W.", "K.")]
    )
    three, four = (ref["text"] for ref in issue.references)
    assert three == "“Three” by A One, B Two, and C Three, 2021."
    assert four == "“Four” by A One et al., 2021."
