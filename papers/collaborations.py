"""Collaboration prefixes in arXiv author lists: "MiniMax: Aili Chen, Aonian Li, …".

A team that signs its paper "MiniMax: Aili Chen, Aonian Li, …" reaches us
split at the commas only: as "MiniMax", ":", "Aili Chen" (arXiv's listings
and feeds) or as one name "MiniMax: Aili Chen". The team is an author as
arXiv lists it; the colon is not (it became an Author with the slug
``author`` and a dozen papers), and nobody is called "MiniMax: Aili Chen".
"""

import dataclasses
import re

# Nothing but punctuation or white space: ":", ";", "," left over from the split.
_NO_NAME = re.compile(r"^[\W_]*$")
# "Team: Person" — a prefix, a colon, white space, then the first person's name.
_TEAM_PREFIX = re.compile(r"^(?P<team>[^:]*\w[^:]*?)\s*:\s+(?P<person>\S.*)$")


def split_collaborations(authors):
    """``authors`` ([(name, affiliation)], in order) with team prefixes split off and stray
    punctuation dropped; the same list when nothing needed it."""
    if not any(":" in name or _NO_NAME.match(name) for name, _ in authors):
        return authors
    result = []
    for name, affiliation in authors:
        name = name.strip()
        if _NO_NAME.match(name):
            continue
        prefixed = _TEAM_PREFIX.match(name)
        if prefixed:
            result.append((prefixed["team"], ""))
            result.append((prefixed["person"], affiliation))
        else:
            # "MiniMax:" followed by the people as separate names.
            result.append((name.rstrip(": \t"), affiliation))
    return result


def without_collaboration_debris(record):
    """``record`` (a PaperRecord) with its author list repaired; the same record when it needed nothing."""
    authors = split_collaborations(record.authors)
    return record if authors is record.authors else dataclasses.replace(record, authors=authors)
