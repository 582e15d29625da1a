"""Commentary Markdown → sanitized HTML, rendered once at save and stored.

CommonMark with tables and footnotes (markdown-it-py); nh3 (ammonia) removes
anything that could run: script, event handlers, ``javascript:`` URLs,
styles, iframes.

Footnotes belong to the whole issue, not to one field: a definition written
under one pick may be cited from the intro, and the issue numbers them 1, 2,
3… in order of first citation across intro, picks (in position order, Why
then Key insights) and outro. So definitions are lifted out of every field
first, then the fields are rendered in reading order with one shared
numbering.
"""

import re
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt

from papers.arxiv_ids import abs_url, parse_arxiv_id
from papers.models import Paper

from .models import Pick
from .templatetags.issues_tags import author_list

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
    "a": {"href", "title", "id", "class", "rel"},
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

# A definition is one line at the start of a line: ``[^key]: citation``.
# Indented continuation lines (CommonMark footnote style) join the citation.
_DEFINITION = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:[ \t]*(.*(?:\n(?: {4}|\t).*)*)\n?", re.MULTILINE)
_CITATION = re.compile(r"\[\^([^\]\s]+)\]")


@dataclass
class Reference:
    key: str
    text: str
    url: str = ""
    arxiv_id: str = ""
    number: int = 0
    backrefs: list = field(default_factory=list)

    def as_dict(self):
        return {
            "number": self.number,
            "key": self.key,
            "text": self.text,
            "url": self.url,
            "arxiv_id": self.arxiv_id,
            "backrefs": list(self.backrefs),
        }


class Footnotes:
    """The issue-wide footnote state while its fields render in reading order."""

    def __init__(self, definitions):
        self.definitions = definitions  # key → Reference
        self.cited = []  # References in order of first citation
        self.missing = []  # keys cited without a definition, in order

    def cite(self, key):
        """The marker HTML for one citation of ``key``; None when undefined."""
        ref = self.definitions.get(key)
        if ref is None:
            if key not in self.missing:
                self.missing.append(key)
            return None
        if not ref.number:
            self.cited.append(ref)
            ref.number = len(self.cited)
        anchor = f"fnref-{ref.number}-{len(ref.backrefs) + 1}"
        ref.backrefs.append(anchor)
        return f'<sup class="footnote-ref"><a href="#ref-{ref.number}" id="{anchor}">{ref.number}</a></sup>'

    def references(self):
        return [ref.as_dict() for ref in self.cited]


def _footnote_ref_rule(state, silent):
    """Inline rule: ``[^key]`` becomes a footnote_ref token (code spans never reach here)."""
    if state.src[state.pos : state.pos + 2] != "[^":
        return False
    match = _CITATION.match(state.src, state.pos)
    if not match:
        return False
    if not silent:
        token = state.push("footnote_ref", "", 0)
        token.meta = {"key": match.group(1)}
    state.pos = match.end()
    return True


def _render_footnote_ref(self, tokens, idx, options, env):
    key = tokens[idx].meta["key"]
    footnotes = env.get("footnotes")
    marker = footnotes.cite(key) if footnotes is not None else None
    if marker is None:
        # Shown as typed so the writer sees it; publication refuses it anyway.
        return f"[^{key}]"
    return marker


def _render_link_open(self, tokens, idx, options, env):
    token = tokens[idx]
    if not (token.attrGet("href") or "").startswith("#"):
        token.attrSet("rel", "noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


def _markdown():
    # html=False: raw HTML in commentary is shown as text, never passed through.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")
    md.inline.ruler.before("link", "footnote_ref", _footnote_ref_rule)
    md.add_render_rule("footnote_ref", _render_footnote_ref)
    md.add_render_rule("link_open", _render_link_open)
    return md


_MD = _markdown()


def sanitize(html):
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        # rel is set by the renderer on outgoing links only: footnote markers
        # keep the exact markup the public page and API clients rely on.
        link_rel=None,
        filter_style_properties={"text-align"},
    )


def split_definitions(text):
    """(text without its footnote definitions, [(key, citation), …])."""
    if not text:
        return "", []
    found = [(m.group(1), " ".join(m.group(2).split())) for m in _DEFINITION.finditer(text)]
    return _DEFINITION.sub("", text).rstrip() + ("\n" if text.endswith("\n") else ""), found


def render_markdown(text, footnotes=None):
    """Sanitized HTML for one Markdown field; citations go through ``footnotes``."""
    if not text:
        return ""
    body, _ = split_definitions(text)
    if not body.strip():
        return ""
    env = {"footnotes": footnotes}
    return sanitize(_MD.render(body, env))


def issue_fields(issue, picks):
    """(owner, field name, text) in reading order: the order footnotes are numbered in."""
    yield issue, "intro", issue.intro
    for pick in picks:
        yield pick, "why", pick.why
        yield pick, "key_insights", pick.key_insights
    yield issue, "outro", issue.outro


def resolve_definitions(pairs):
    """key → Reference for the (key, citation) pairs; ``arXiv:`` ids become Papers when we have them."""
    definitions = {}
    wanted = {}
    for key, citation in pairs:
        if key in definitions:
            continue  # the first definition wins, as in CommonMark
        ref = Reference(key=key, text=citation)
        head, _, rest = citation.partition(" ")
        if head.lower().startswith("arxiv:"):
            try:
                parsed = parse_arxiv_id(head)
            except ValueError:
                parsed = None
            if parsed is not None:
                ref.arxiv_id = parsed.id
                ref.url = abs_url(parsed.id)
                ref.text = rest.strip() or f"arXiv:{parsed.id}"
                wanted[parsed.id] = ref
        elif head.startswith(("http://", "https://")):
            ref.url = head
            ref.text = rest.strip() or head
        definitions[key] = ref
    if wanted:
        papers = Paper.objects.with_authors().filter(arxiv_id__in=list(wanted))
        by_id = {}
        for paper in papers:
            by_id[paper.arxiv_id] = paper
        for arxiv_id, paper in by_id.items():
            for ref in definitions.values():
                if ref.arxiv_id == arxiv_id:
                    ref.text = paper_citation(paper)
    return definitions


# Past this many authors a citation names the first one only, as the reference issue does.
CITATION_MAX_AUTHORS = 3


def paper_citation(paper):
    """“Title” by A, B, and C, Year. — or “Title” by A et al., Year. past three authors."""
    names = [author.name for author in paper.ordered_authors()]
    if len(names) > CITATION_MAX_AUTHORS:
        # A 127-author list belongs on the paper's page, not in a footnote.
        by = f" by {names[0]} et al."
    else:
        by = f" by {author_list(names)}" if names else ""
    return f"“{paper.title}”{by}, {paper.submitted_at.year}."


@dataclass
class Rendered:
    html: dict  # (owner kind, pk or index, field) → html
    references: list
    missing: list
    duplicates: list


def render_fields(issue, picks):
    """Render every Markdown field of ``issue`` and ``picks`` without saving anything.

    Sets the ``*_html`` attributes and ``issue.references`` on the given
    objects, and returns the keys cited without a definition.
    """
    pairs = []
    seen, duplicates = set(), []
    for _owner, _name, text in issue_fields(issue, picks):
        for key, citation in split_definitions(text)[1]:
            if key in seen and key not in duplicates:
                duplicates.append(key)
            seen.add(key)
            pairs.append((key, citation))
    footnotes = Footnotes(resolve_definitions(pairs))
    for owner, name, text in issue_fields(issue, picks):
        setattr(owner, f"{name}_html", render_markdown(text, footnotes))
    issue.references = footnotes.references()
    return footnotes.missing


def footnote_problems(issue, picks=None):
    """Plain-words problems with the issue's footnotes (a citation without a definition)."""
    if picks is None:
        picks = list(issue.picks.order_by("position"))
    missing = render_fields(issue, picks)
    return [f"The footnote [^{key}] is cited but never defined." for key in missing]


def render_issue(issue):
    """Render and store the HTML of every Markdown field of ``issue`` and its picks.

    Returns the keys cited without a definition (publication refuses them).
    """
    picks = list(issue.picks.order_by("position"))
    missing = render_fields(issue, picks)
    issue.save(update_fields=["intro_html", "outro_html", "references"])
    changed = []
    for pick in picks:
        changed.append(pick)
    if changed:
        Pick.objects.bulk_update(changed, ["why_html", "key_insights_html"])
    return missing
