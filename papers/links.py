"""Code and project links in an abstract or comment.

Authors announce their code in free text ("Code: https://github.com/…",
"Project page: …"). We take the first repository-hosting URL as the code link
and the first URL introduced as a project/home page (or on github.io) as the
project link. Editors can override both with ``set_paper_links``, the one
way they change; harvests then leave them alone.
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from curation.roles import require_editor

from .ingest import papers_updated
from .models import Paper

# A URL as written in prose: stop at white space, quotes and closing brackets.
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
_CODE_HOSTS = re.compile(
    r"^https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|bitbucket\.org|codeberg\.org)/[^/\s]+",
    re.IGNORECASE,
)
_PROJECT_HOSTS = re.compile(r"^https?://[^/\s]+\.github\.io(?:/|$)", re.IGNORECASE)
# "project page: URL", "project website at URL", "homepage URL" …
_PROJECT_CUE = re.compile(r"(?:project|home)\s*(?:page|website|site)\b[^h]{0,20}$", re.IGNORECASE)
# Sentence punctuation glued to the end of a URL is not part of it.
_TRAILING = ".,;:!?"


# "…/repo.git": the clone address, not the page a reader wants.
_GIT_SUFFIX = re.compile(r"\.git/?$", re.IGNORECASE)
# What a Hugging Face link is, from its path: /datasets/…, /spaces/… or a model (/org/name).
_HUGGING_FACE = re.compile(
    r"^https?://(?:www\.)?huggingface\.co/(?P<kind>datasets/|spaces/)?[^/\s]+", re.IGNORECASE
)
_HUGGING_FACE_LABELS = {"datasets/": "Dataset", "spaces/": "Demo", None: "Model"}


def _clean(url):
    url = url.rstrip(_TRAILING)
    # A closing parenthesis was excluded by the pattern; a trailing slash is kept as written.
    if _CODE_HOSTS.match(url):
        url = _GIT_SUFFIX.sub("", url)
    return url


def code_link_label(url):
    """What a pick's or paper's code link is, for its link text: "Code", or on Hugging Face
    "Model", "Dataset" or "Demo"."""
    hugging_face = _HUGGING_FACE.match(url or "")
    if hugging_face:
        return _HUGGING_FACE_LABELS[(hugging_face["kind"] or "").lower() or None]
    return "Code"


def detect_links(*texts):
    """Return ``(code_url, project_url)`` found in ``texts`` ('' when none)."""
    code_url = project_url = ""
    for text in texts:
        if not text:
            continue
        for match in _URL.finditer(text):
            url = _clean(match.group(0))
            if len(url) > 500:
                continue
            if not code_url and _CODE_HOSTS.match(url):
                # huggingface.co/papers/… is arXiv's own mirror page, not code.
                if "huggingface.co/papers/" not in url.lower():
                    code_url = url
                    continue
            if not project_url:
                before = text[max(0, match.start() - 40) : match.start()]
                if _PROJECT_HOSTS.match(url) or _PROJECT_CUE.search(before):
                    project_url = url
        if code_url and project_url:
            break
    return code_url, project_url


@transaction.atomic
def set_paper_links(paper, *, by, code_url, project_url):
    """Set ``paper``'s code and project links as an editor's choice; returns the saved Paper.

    Editors only. From then on harvests leave both links alone
    (``links_set_by_editor``), even when arXiv's text names others; an empty
    link stays empty. Only the link fields are written: what arXiv owns is never
    saved from here.
    """
    require_editor(by, "change a paper's links")
    links = {"code_url": (code_url or "").strip(), "project_url": (project_url or "").strip()}
    paper = Paper.objects.select_for_update().get(pk=paper.pk)
    errors = {}
    for name, url in links.items():
        try:
            # The model field's own checks: a URL, and no longer than the column.
            Paper._meta.get_field(name).clean(url, paper)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    if paper.links_set_by_editor and all(getattr(paper, name) == url for name, url in links.items()):
        return paper
    for name, url in links.items():
        setattr(paper, name, url)
    paper.links_set_by_editor = True
    paper.save(update_fields=[*links, "links_set_by_editor", "modified"])
    # The paper's public page shows its links: published pages showing it are stale now.
    papers_updated.send(sender=Paper, paper_ids=[paper.pk])
    return paper
