"""Commentary Markdown → sanitized HTML, rendered once at save and stored.

CommonMark with tables (markdown-it-py); nh3 (ammonia) removes anything that
could run: script, event handlers, ``javascript:`` URLs, styles, iframes.
"""

import nh3
from markdown_it import MarkdownIt

_ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "a",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
    "img",
    "figure",
    "figcaption",
    "del",
    "s",
    "section",
    "span",
    "div",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "class"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "th": {"style", "scope"},
    "td": {"style"},
    "ol": {"start", "class"},
    "li": {"id", "class"},
    "sup": {"id", "class"},
    "section": {"class"},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "hr": {"class"},
}


def _markdown():
    # html=False: raw HTML in commentary is shown as text, never passed through.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def sanitize(html):
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )


def render_markdown(text):
    """Sanitized HTML for one Markdown field."""
    if not text:
        return ""
    return sanitize(_markdown().render(text))


def render_issue(issue):
    """Render and store the HTML of every Markdown field of ``issue`` and its picks."""
    issue.intro_html = render_markdown(issue.intro)
    issue.outro_html = render_markdown(issue.outro)
    issue.save(update_fields=["intro_html", "outro_html", "references"])
    for pick in issue.picks.all():
        pick.why_html = render_markdown(pick.why)
        pick.key_insights_html = render_markdown(pick.key_insights)
        pick.save(update_fields=["why_html", "key_insights_html"])
