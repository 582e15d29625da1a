"""Code and project links in an abstract or comment.

Authors announce their code in free text ("Code: https://github.com/…",
"Project page: …"). We take the first repository-hosting URL as the code link
and the first URL introduced as a project/home page (or on github.io) as the
project link. Editors can override both; harvests then leave them alone.
"""

import re

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


def _clean(url):
    url = url.rstrip(_TRAILING)
    # A closing parenthesis was excluded by the pattern; a trailing slash is kept as written.
    return url


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
