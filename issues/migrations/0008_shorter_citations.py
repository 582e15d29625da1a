"""Rewrite stored footnote references to papers we have: “First Author et al.” past three authors.

Issue.references is rendered at save, so the issues saved before the rule
(issues/markdown.py ``paper_citation``) still list every author — 127 names
for one paper — on the page, in the API and in the export. This rewrites the
text of each reference that points at a Paper we have, with the authors as
repaired by papers' 0008_collaboration_authors.
"""

from django.db import migrations

MAX_AUTHORS = 3


def _author_list(names):
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def _citation(paper, names):
    # issues.markdown.paper_citation, as of this migration.
    if len(names) > MAX_AUTHORS:
        by = f" by {names[0]} et al."
    else:
        by = f" by {_author_list(names)}" if names else ""
    return f"“{paper.title}”{by}, {paper.submitted_at.year}."


def rewrite(apps, schema_editor):
    Issue = apps.get_model("issues", "Issue")
    Paper = apps.get_model("papers", "Paper")
    Authorship = apps.get_model("papers", "Authorship")
    for issue in Issue.objects.only("pk", "references"):
        references = issue.references or []
        cited = {ref.get("arxiv_id") for ref in references if ref.get("arxiv_id")}
        if not cited:
            continue
        papers = {paper.arxiv_id: paper for paper in Paper.objects.filter(arxiv_id__in=cited)}
        names = {}
        for paper_id, name in (
            Authorship.objects.filter(paper__in=papers.values())
            .order_by("paper_id", "position")
            .values_list("paper_id", "author__name")
        ):
            names.setdefault(paper_id, []).append(name)
        changed = False
        for ref in references:
            paper = papers.get(ref.get("arxiv_id"))
            if paper is None:
                continue
            text = _citation(paper, names.get(paper.pk, []))
            if ref.get("text") != text:
                ref["text"], changed = text, True
        if changed:
            Issue.objects.filter(pk=issue.pk).update(references=references)


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0007_scheduler_heartbeat"),
        ("papers", "0008_collaboration_authors"),
    ]

    operations = [
        migrations.RunPython(rewrite, migrations.RunPython.noop),
    ]
