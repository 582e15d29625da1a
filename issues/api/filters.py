"""The filters of the public lists, declared once: validation, the query and the schema follow.

A bad value is a 400 naming the parameter, never ignored (see
curation/api_filters.py); unknown parameters are refused by the views.
"""

from django.db.models import Q
from django_filters import rest_framework as filters

from curation.api_filters import IntegerFilter, TrueFalseFilter
from papers.models import Authorship, Paper
from papers.search import filter_by_search


class PickFilter(filters.FilterSet):
    issue = filters.CharFilter(
        field_name="issue__slug", max_length=200, help_text="Only picks of this issue (its slug)."
    )
    category = filters.CharFilter(
        method="filter_category", max_length=32, help_text="Papers listed in this arXiv category, e.g. cs.LG."
    )
    author = filters.CharFilter(
        method="filter_author", max_length=200, help_text="Papers by this author (the author's slug)."
    )
    year = IntegerFilter(
        field_name="issue__period_start__year",
        min_value=1990,
        max_value=2999,
        help_text="Picks of issues covering this year, e.g. 2021.",
    )
    has_code = TrueFalseFilter(
        method="filter_has_code", help_text="true: only picks with a code link; false: only without."
    )
    q = filters.CharFilter(
        method="filter_q",
        max_length=200,
        help_text="Text query over paper title, authors, abstract and our commentary "
        '(web-search syntax: "quoted phrase", -excluded).',
    )

    def filter_category(self, picks, name, value):
        return picks.filter(paper__in=Paper.objects.in_category(value).values("pk"))

    def filter_author(self, picks, name, value):
        # A subquery, not a join: a paper listing one author twice must not repeat the pick.
        return picks.filter(paper__in=Authorship.objects.filter(author__slug=value).values("paper"))

    def filter_has_code(self, picks, name, value):
        with_code = ~Q(code_url="") | ~Q(paper__code_url="")
        return picks.filter(with_code) if value else picks.exclude(with_code)

    def filter_q(self, picks, name, value):
        matching = filter_by_search(Paper.objects.all(), value).values("pk")
        return picks.filter(
            Q(paper__in=matching) | Q(why__icontains=value) | Q(key_insights__icontains=value)
        )


class PaperFilter(filters.FilterSet):
    category = filters.CharFilter(
        method="filter_category",
        max_length=32,
        help_text="arXiv category (primary or cross-list), e.g. cs.LG.",
    )

    def filter_category(self, papers, name, value):
        return papers.in_category(value)


class AuthorFilter(filters.FilterSet):
    q = filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=100, help_text="Part of the author's name."
    )
