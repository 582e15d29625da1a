"""Repair author lists harvested before collaboration prefixes were parsed.

"MiniMax: Aili Chen, …" was stored as the authors "MiniMax", ":" and "Aili
Chen": the ":" became an Author (slug ``author``) on every such paper. Each
paper with such an author gets its list rebuilt by the harvester's own rule
(papers/collaborations.py): the colon goes, a "Team: Person" name becomes the
team and the person, positions stay dense, ``authors_text`` follows (and with
it, on PostgreSQL, the search vector). Authors left without papers are deleted.
"""

import unicodedata

from django.db import migrations
from django.db.models import Q
from django.utils.text import slugify

from papers.collaborations import split_collaborations


def _key(name):
    # papers.models.normalize_author_name, as of this migration.
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.split()).casefold()[:300]


def _display(name):
    return " ".join(unicodedata.normalize("NFC", name or "").split())


def _author(Author, name):
    key = _key(name)
    author = Author.objects.filter(key=key).first()
    if author is None:
        base = slugify(key)[:300] or "author"
        slug, n = base, 2
        while Author.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        author = Author.objects.create(name=_display(name)[:300], key=key, slug=slug)
    return author


def repair(apps, schema_editor):
    Author = apps.get_model("papers", "Author")
    Authorship = apps.get_model("papers", "Authorship")
    Paper = apps.get_model("papers", "Paper")
    suspects = [
        author.pk
        for author in Author.objects.filter(Q(name__contains=":") | Q(name__regex=r"^\W*$"))
        if split_collaborations([(author.name, "")]) != [(author.name, "")]
    ]
    if not suspects:
        return
    paper_ids = set(Authorship.objects.filter(author_id__in=suspects).values_list("paper_id", flat=True))
    for paper in Paper.objects.filter(pk__in=paper_ids):
        rows = list(Authorship.objects.filter(paper=paper).select_related("author").order_by("position"))
        authors = split_collaborations([(row.author.name, row.affiliation) for row in rows])
        Authorship.objects.filter(paper=paper).delete()
        seen = set()
        position = 0
        for name, affiliation in authors:
            author = _author(Author, name)
            if author.pk in seen:
                continue  # the same person twice in one list counts once, as at import
            seen.add(author.pk)
            position += 1
            Authorship.objects.create(paper=paper, author=author, position=position, affiliation=affiliation)
        paper.authors_text = ", ".join(_display(name) for name, _ in authors)
        # ``modified`` too: the stored bodies of published pages showing the paper are re-rendered.
        paper.save(update_fields=["authors_text", "modified"])
    Author.objects.filter(pk__in=suspects, authorships__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0007_harvest_run_heartbeat_and_entry_problems"),
    ]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop),
    ]
