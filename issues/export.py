"""An issue leaves the site as Markdown (for cross-posting), BibTeX of its picks, or JSON.

The Markdown export keeps the issue's footnote numbering: citations become
``[^1]``, ``[^2]``… in the order readers meet them, and the definitions are
listed once at the end, so pasting it anywhere that speaks Markdown
footnotes gives the same reference list as the site.
"""

import re
import unicodedata

from django.conf import settings

from papers.links import code_link_label

from .markdown import _CITATION, render_fields, split_definitions
from .preview import page_queryset
from .templatetags.issues_tags import author_list


def _load(issue):
    return page_queryset().get(pk=issue.pk)


def _numbered(text, numbers):
    """``text`` without its definitions and with each known ``[^key]`` as ``[^N]``."""
    body, _ = split_definitions(text)

    def replace(match):
        number = numbers.get(match.group(1))
        return f"[^{number}]" if number else match.group(0)

    return _CITATION.sub(replace, body).strip()


def _absolute(url):
    return url if url.startswith(("http://", "https://")) else settings.SITE_URL + url


def export_markdown(issue):
    issue = _load(issue)
    picks = list(issue.picks.all())
    render_fields(issue, picks)  # in memory: the numbering exactly as stored at the last save
    numbers = {ref["key"]: ref["number"] for ref in issue.references}
    lines = [f"# {issue.title}", ""]
    if issue.subtitle:
        lines += [f"*{issue.subtitle}*", ""]
    meta = [issue.byline] if issue.byline else []
    if issue.published_at:
        meta.append(f"{issue.published_at:%B} {issue.published_at.day}, {issue.published_at.year}")
    if meta:
        lines += [" · ".join(meta), ""]
    if issue.intro:
        lines += [_numbered(issue.intro, numbers), ""]
    for pick in picks:
        paper = pick.paper
        authors = author_list([a.author.name for a in paper.authorships.all()])
        links = [f"[arXiv {paper.arxiv_id}]({paper.abs_url})"]
        if pick.code_url:
            links.append(f"[{code_link_label(pick.code_url)}]({pick.code_url})")
        if pick.demo_url:
            links.append(f"[Demo]({pick.demo_url})")
        lines += [f"## {pick.position}. [{pick.title}]({paper.abs_url})", ""]
        if authors:
            lines += [f"By {authors}.", ""]
        lines += [" · ".join(links), "", "### Why", "", _numbered(pick.why, numbers), ""]
        lines += ["### Key insights", "", _numbered(pick.key_insights, numbers), ""]
        for figure in pick.figures.all():
            alt = figure.alt_text.replace("]", "\\]")
            lines += [f"![{alt}]({_absolute(figure.image.url)})", ""]
            caption = figure.caption
            if figure.credit:
                credit = f"[{figure.credit}]({figure.credit_url})" if figure.credit_url else figure.credit
                caption = f"{caption} Source: {credit}".strip()
            if caption:
                lines += [f"*{caption}*", ""]
    if issue.outro:
        lines += [_numbered(issue.outro, numbers), ""]
    for ref in issue.references:
        if ref["arxiv_id"]:
            lines.append(f"[^{ref['number']}]: arXiv:{ref['arxiv_id']} {ref['text']}")
        elif ref["url"]:
            lines.append(f"[^{ref['number']}]: {ref['url']} {ref['text']}")
        else:
            lines.append(f"[^{ref['number']}]: {ref['text']}")
    return "\n".join(lines).rstrip() + "\n"


_BIBTEX_SPECIAL = re.compile(r"([{}&%$#_\\])")


def _bibtex_escape(text):
    return _BIBTEX_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def _bibtex_key(paper, taken):
    authors = list(paper.authorships.all())
    surname = authors[0].author.name.split()[-1] if authors else "anon"
    word = next((w for w in re.findall(r"[A-Za-z]+", paper.title) if len(w) > 3), "paper")
    raw = f"{surname}{paper.submitted_at.year}{word}"
    key = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    key = re.sub(r"[^a-z0-9]", "", key) or "paper"
    unique, n = key, 2
    while unique in taken:
        unique, n = f"{key}{chr(ord('a') + n - 2)}", n + 1
    taken.add(unique)
    return unique


def export_bibtex(issue):
    """One @misc entry per pick, in pick order, citing the version the commentary was written about."""
    issue = _load(issue)
    taken, entries = set(), []
    for pick in issue.picks.all():
        paper = pick.paper
        authors = " and ".join(_bibtex_escape(a.author.name) for a in paper.authorships.all())
        fields = [
            ("title", "{" + _bibtex_escape(pick.title) + "}"),
            ("author", authors),
            ("year", str(paper.submitted_at.year)),
            ("eprint", f"{paper.arxiv_id}v{pick.paper_version}"),
            ("archivePrefix", "arXiv"),
            ("primaryClass", paper.primary_category),
            ("url", f"https://arxiv.org/abs/{paper.arxiv_id}v{pick.paper_version}"),
            ("note", _bibtex_escape(f"Pick {pick.position} of {issue.title}")),
        ]
        if paper.doi:
            fields.append(("doi", _bibtex_escape(paper.doi)))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@misc{{{_bibtex_key(paper, taken)},\n{body}\n}}\n")
    return "\n".join(entries)


def export_json(issue):
    """The issue as a JSON-ready dict: commentary as written (Markdown) and as rendered (HTML)."""
    issue = _load(issue)
    return {
        "title": issue.title,
        "subtitle": issue.subtitle,
        "slug": issue.slug,
        "status": issue.status,
        "period_start": issue.period_start.isoformat(),
        "period_end": issue.period_end.isoformat(),
        "byline": issue.byline,
        "published_at": issue.published_at.isoformat() if issue.published_at else None,
        "updated_at": issue.updated_at.isoformat() if issue.updated_at else None,
        "url": settings.SITE_URL + issue.get_absolute_url(),
        "intro": issue.intro,
        "intro_html": issue.intro_html,
        "outro": issue.outro,
        "outro_html": issue.outro_html,
        "references": issue.references,
        "picks": [
            {
                "position": pick.position,
                "arxiv_id": pick.paper.arxiv_id,
                "paper_version": pick.paper_version,
                "title": pick.title,
                "authors": [a.author.name for a in pick.paper.authorships.all()],
                "abs_url": pick.paper.abs_url,
                "pdf_url": pick.paper.pdf_url,
                "code_url": pick.code_url,
                "demo_url": pick.demo_url,
                "why": pick.why,
                "why_html": pick.why_html,
                "key_insights": pick.key_insights,
                "key_insights_html": pick.key_insights_html,
                "figures": [
                    {
                        "url": _absolute(figure.image.url),
                        "width": figure.width,
                        "height": figure.height,
                        "alt_text": figure.alt_text,
                        "caption": figure.caption,
                        "credit": figure.credit,
                        "credit_url": figure.credit_url,
                    }
                    for figure in pick.figures.all()
                ],
            }
            for pick in issue.picks.all()
        ],
    }
