"""arXiv identifiers: the versionless id that keys a Paper, from any form people paste."""

import re
from typing import NamedTuple

# New style since 2007-04: YYMM.NNNN (to 2014) or YYMM.NNNNN.
_NEW = r"(?P<new>\d{4}\.\d{4,5})"
# Old style: archive(.subject class)/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD = r"(?P<old>[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})"
_ID = rf"(?:{_NEW}|{_OLD})(?:v(?P<version>\d+))?"

_PATTERNS = [
    re.compile(rf"^(?:arxiv:)?{_ID}$", re.IGNORECASE),
    re.compile(
        rf"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/{_ID}(?:\.pdf)?/?(?:[?#].*)?$",
        re.IGNORECASE,
    ),
]


class ArxivId(NamedTuple):
    id: str
    version: int | None

    def __str__(self):
        return self.id if self.version is None else f"{self.id}v{self.version}"


def parse_arxiv_id(text):
    """Return the ArxivId in ``text`` (an id, ``arXiv:`` id or abs/pdf URL).

    Raises ValueError naming the input when it is not an arXiv id.
    """
    value = (text or "").strip()
    for pattern in _PATTERNS:
        match = pattern.match(value)
        if match:
            if match.group("new"):
                arxiv_id = match.group("new")
                yymm, number = arxiv_id.split(".")
                # Five-digit numbers since 1501, four before.
                if (len(number) == 5) != (yymm >= "1501"):
                    break
            else:
                archive, number = match.group("old").split("/")
                # The archive is lower case, the subject class upper case.
                if "." in archive:
                    name, subject = archive.split(".")
                    archive = f"{name.lower()}.{subject.upper()}"
                else:
                    archive = archive.lower()
                arxiv_id = f"{archive}/{number}"
            version = match.group("version")
            return ArxivId(arxiv_id, int(version) if version else None)
    raise ValueError(f"“{value[:100]}” is not an arXiv id or arXiv URL.")


def abs_url(arxiv_id, version=None):
    suffix = f"v{version}" if version else ""
    return f"https://arxiv.org/abs/{arxiv_id}{suffix}"


def pdf_url(arxiv_id, version=None):
    suffix = f"v{version}" if version else ""
    return f"https://arxiv.org/pdf/{arxiv_id}{suffix}"
