"""arXiv's search_query language, the part the harvester and tests use."""

import re
from datetime import UTC, datetime

_TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<op>ANDNOT|AND|OR)(?=[\s(])"
    r"|(?P<field>[a-zA-Z_]+):(?P<value>\[[^\]]*\]|\"[^\"]*\"|[^\s()]+))"
)


class QueryError(ValueError):
    pass


def _stamp(text, end):
    text = text.strip()
    if not re.fullmatch(r"\d{8}(\d{4})?(\d{2})?", text):
        raise QueryError(f"incorrect date format in submittedDate: {text}")
    year, month, day = int(text[0:4]), int(text[4:6]), int(text[6:8])
    hour = int(text[8:10]) if len(text) >= 12 else (23 if end else 0)
    minute = int(text[10:12]) if len(text) >= 12 else (59 if end else 0)
    # Minute precision: the end of a range includes its whole last minute.
    second = int(text[12:14]) if len(text) >= 14 else (59 if end else 0)
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def tokenize(text):
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"cannot parse search_query near: {text[pos : pos + 30]}")
        pos = match.end()
        if match.group("open"):
            tokens.append(("(", None))
        elif match.group("close"):
            tokens.append((")", None))
        elif match.group("op"):
            tokens.append(("op", match.group("op")))
        else:
            tokens.append(("term", (match.group("field"), match.group("value"))))
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def parse(text):
    """An AST: ("term", field, value) | ("date", start, end) | (op, left, right)."""
    tokens = tokenize(text)
    if not tokens:
        return None
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else (None, None)

    def primary():
        nonlocal position
        kind, value = peek()
        if kind == "(":
            position += 1
            node = expression()
            if peek()[0] != ")":
                raise QueryError("unbalanced parentheses in search_query")
            position += 1
            return node
        if kind == "term":
            position += 1
            field, raw = value
            if field == "submittedDate":
                match = re.fullmatch(r"\[\s*(\S+)\s+TO\s+(\S+)\s*\]", raw)
                if not match:
                    raise QueryError(f"submittedDate needs [FROM TO UNTIL]: {raw}")
                return ("date", _stamp(match.group(1), False), _stamp(match.group(2), True))
            return ("term", field, raw.strip('"'))
        raise QueryError("expected a term in search_query")

    def conjunction():
        nonlocal position
        node = primary()
        while peek() in (("op", "AND"), ("op", "ANDNOT")):
            op = peek()[1]
            position += 1
            node = (op, node, primary())
        return node

    def expression():
        nonlocal position
        node = conjunction()
        while peek() == ("op", "OR"):
            position += 1
            node = ("OR", node, conjunction())
        return node

    node = expression()
    if position != len(tokens):
        raise QueryError("unexpected text at the end of search_query")
    return node


def date_range(node):
    """The submittedDate range every match must fall in, if the query pins one."""
    if node is None:
        return None
    if node[0] == "date":
        return node[1], node[2]
    if node[0] in ("AND", "ANDNOT"):
        return date_range(node[1]) or (date_range(node[2]) if node[0] == "AND" else None)
    return None


def matches(node, entry):
    kind = node[0]
    if kind == "AND":
        return matches(node[1], entry) and matches(node[2], entry)
    if kind == "OR":
        return matches(node[1], entry) or matches(node[2], entry)
    if kind == "ANDNOT":
        return matches(node[1], entry) and not matches(node[2], entry)
    if kind == "date":
        return node[1] <= entry["published"] <= node[2]
    _, field, value = node
    value = value.lower()
    if field == "cat":
        return value in entry["_cats_lower"]
    if field == "ti":
        return value in entry["title"].lower()
    if field == "abs":
        return value in entry["abstract"].lower()
    if field == "au":
        return any(value in name.lower() for name, _ in entry["authors"])
    if field in ("all", "id"):
        return value in entry["_all_lower"]
    return False
