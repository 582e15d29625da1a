"""Query parameters of the pick listing, validated: a bad value is a 400 naming it, never ignored."""

from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework.exceptions import ValidationError

from papers.models import Authorship, Paper
from papers.search import filter_by_search

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def boolean_param(params, name):
    raw = params.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValidationError({name: ["Use true or false."]})


def year_param(params, name):
    raw = params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1990 <= int(raw) <= 2999:
        raise ValidationError({name: ["A four-digit year is required, e.g. 2021."]})
    return int(raw)


def text_param(params, name, max_length=200):
    raw = params.get(name, "")
    if len(raw) > max_length:
        raise ValidationError({name: [f"At most {max_length} characters."]})
    if "\x00" in raw:
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
        raise ValidationError({name: ["Null characters are not allowed."]})
    return raw.strip()


def filter_picks(picks, params):
    """Published picks narrowed by issue, category, author, year, has_code and q."""
    issue = text_param(params, "issue")
    if issue:
        picks = picks.filter(issue__slug=issue)
    category = text_param(params, "category", 32)
    if category:
        picks = picks.filter(paper__in=Paper.objects.in_category(category).values("pk"))
    author = text_param(params, "author")
    if author:
        # A subquery, not a join: a paper listing one author twice must not repeat the pick.
        picks = picks.filter(paper__in=Authorship.objects.filter(author__slug=author).values("paper"))
    year = year_param(params, "year")
    if year:
        picks = picks.filter(issue__period_start__year=year)
    has_code = boolean_param(params, "has_code")
    if has_code is not None:
        with_code = ~Q(code_url="") | ~Q(paper__code_url="")
        picks = picks.filter(with_code) if has_code else picks.exclude(with_code)
    q = text_param(params, "q")
    if q:
        matching = filter_by_search(Paper.objects.all(), q).values("pk")
        picks = picks.filter(Q(paper__in=matching) | Q(why__icontains=q) | Q(key_insights__icontains=q))
    return picks


def _text(max_length):
    return {"type": "string", "maxLength": max_length}


PICK_PARAMETERS = [
    OpenApiParameter(
        "issue",
        _text(200),
        description="Only picks of this issue (its slug).",
        examples=[OpenApiExample("demo issue", value="april-2021")],
    ),
    OpenApiParameter(
        "category",
        _text(32),
        description="Papers listed in this arXiv category, e.g. cs.LG.",
        examples=[OpenApiExample("machine learning", value="cs.LG")],
    ),
    OpenApiParameter("author", _text(200), description="Papers by this author (the author's slug)."),
    OpenApiParameter(
        "year",
        {"type": "integer", "minimum": 1990, "maximum": 2999},
        description="Picks of issues covering this year, e.g. 2021.",
    ),
    OpenApiParameter(
        "has_code", OpenApiTypes.BOOL, description="true: only picks with a code link; false: only without."
    ),
    OpenApiParameter(
        "q",
        _text(200),
        description="Text query over paper title, authors, abstract and our commentary "
        '(web-search syntax: "quoted phrase", -excluded).',
        examples=[OpenApiExample("a phrase", value='"self-supervised" -video')],
    ),
]
