"""Template helpers for the public pages: JSON-LD and commentary shown away from its issue."""

import json
import re

from django import template
from django.conf import settings
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from papers.links import code_link_label

register = template.Library()

# What json_script escapes too: "</script>" or "<!--" inside a title must not end the block.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
_FOOTNOTE_HREF = re.compile(r'href="#(ref-\d+)"')
_FOOTNOTE_ID = re.compile(r'\s+id="fnref-[\w-]+"')


def _absolute(path):
    return f"{settings.SITE_URL}{path}"


@register.simple_tag
def issue_jsonld(issue):
    """A schema.org Article for the issue, with each pick as a cited ScholarlyArticle."""
    picks = list(issue.picks.all())
    data = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": issue.title,
        "alternativeHeadline": issue.subtitle or None,
        "url": _absolute(issue.get_absolute_url()),
        "mainEntityOfPage": _absolute(issue.get_absolute_url()),
        "datePublished": issue.published_at.isoformat() if issue.published_at else None,
        "dateModified": issue.updated_at.isoformat() if issue.updated_at else None,
        "author": {"@type": "Organization", "name": issue.byline or settings.SITE_NAME},
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": _absolute("/")},
        "about": sorted({pick.paper.primary_category for pick in picks}),
        "citation": [
            {
                "@type": "ScholarlyArticle",
                "name": pick.title,
                "url": pick.paper.abs_url,
                "identifier": f"arXiv:{pick.paper.arxiv_id}",
                "author": [{"@type": "Person", "name": a.author.name} for a in pick.paper.authorships.all()],
            }
            for pick in picks
        ],
    }
    data = {key: value for key, value in data.items() if value not in (None, "", [])}
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')


@register.filter
def footnotes_to(html, url):
    """Commentary shown outside its issue page: footnote links point into the issue, ids dropped."""
    html = _FOOTNOTE_HREF.sub(lambda m: f'href="{url}#{m.group(1)}"', html or "")
    return mark_safe(_FOOTNOTE_ID.sub("", html))


@register.filter
def fragments_to(html, url):
    """Fragment links (footnotes ``#ref-2``, back-links ``#fnref-2-1``) made absolute on ``url``.

    For feeds: a reader shows the entry away from the issue page, where a bare
    ``#ref-2`` points nowhere. Ids are kept, so the links still work in readers
    that show the whole entry as a page.
    """
    return mark_safe((html or "").replace('href="#', f'href="{escape(url)}#'))


@register.filter
def code_label(url):
    """ "Code", or "Model", "Dataset" or "Demo" for a Hugging Face link (papers/links.py)."""
    return code_link_label(url)


@register.filter
def absolute_to(url, base):
    """Prefix a site-relative URL with ``base`` (for feeds); absolute URLs pass unchanged."""
    if base and url.startswith("/"):
        return f"{base}{url}"
    return url


@register.filter
def author_links(authorships, base=""):
    """ "<a>A</a>, <a>B</a>, and <a>C</a>" — the reference issue's byline, linked.

    Built in Python: a template loop over seventy authors was a third of the
    issue page's render time.
    """
    links = [
        format_html('<a href="{}{}">{}</a>', base, a.author.get_absolute_url(), a.author.name)
        for a in authorships
    ]
    if len(links) <= 2:
        return mark_safe(" and ".join(links))
    return mark_safe(", ".join(links[:-1]) + ", and " + links[-1])
