"""The JSON API of papers and authors: public reads, and adding papers by id for curators.

Only papers picked in a published issue, and their authors, are public: the
same rule as the public paper and author pages. Every public queryset starts
from ``Issue.objects.published()``.
"""

from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response

from curation.roles import IsCurator
from issues.api.filters import text_param
from issues.api.reads import (
    PAGE_PARAMETERS,
    ConditionalReadMixin,
    CursorPage,
    Ordering,
    UTCDateTimeField,
    latest,
    public_url,
    utc_iso,
)
from issues.api.strict import KnownQueryParametersMixin, StrictCharField, StrictSerializer
from issues.models import Issue, Pick

from . import harvest
from .arxiv_ids import parse_arxiv_id
from .models import Author, Authorship, Paper


def published_picks():
    return Pick.objects.filter(issue__in=Issue.objects.published())


def public_papers():
    """Papers with at least one pick in a published issue."""
    return Paper.objects.filter(Exists(published_picks().filter(paper=OuterRef("pk")))).defer(
        *UNUSED_PAPER_FIELDS
    )


# Never shown in the API, and large: the search vector (PostgreSQL) and its author text.
UNUSED_PAPER_FIELDS = ("search_vector", "authors_text")


def public_authors():
    """Authors of a paper picked in a published issue."""
    return Author.objects.filter(
        Exists(Authorship.objects.filter(author=OuterRef("pk"), paper__in=public_papers()))
    )


# Serializers ------------------------------------------------------------------


class AuthorSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The author's public page.")
    api_url = serializers.SerializerMethodField(help_text="This author in the API.")

    class Meta:
        model = Author
        fields = ["slug", "name", "url", "api_url"]
        read_only_fields = fields

    def get_url(self, author) -> str:
        return public_url("issues:author", "slug", author.slug)

    def get_api_url(self, author) -> str:
        return public_url("api:author-detail", "slug", author.slug)

    def to_representation(self, author):
        return author_json(author.slug, author.name)


def author_json(slug, name):
    # Hand-written for speed (lists hold hundreds of authors); the same keys as
    # AuthorSerializer.Meta.fields, which the tests and the schema fuzzer check.
    return {
        "slug": slug,
        "name": name,
        "url": public_url("issues:author", "slug", slug),
        "api_url": public_url("api:author-detail", "slug", slug),
    }


class PaperSerializer(serializers.ModelSerializer):
    authors = AuthorSerializer(source="ordered_authors", many=True, read_only=True)
    categories = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="arXiv categories, the primary one first."
    )
    submitted_at = UTCDateTimeField(read_only=True, help_text="When version 1 was submitted to arXiv.")
    updated_at = UTCDateTimeField(read_only=True, help_text="When arXiv last updated the paper.")
    url = serializers.SerializerMethodField(help_text="The paper's public page on this site.")
    api_url = serializers.SerializerMethodField(help_text="This paper in the API.")
    abs_url = serializers.URLField(read_only=True, help_text="The abstract on arxiv.org.")
    pdf_url = serializers.URLField(read_only=True, help_text="The PDF on arxiv.org.")
    has_code = serializers.BooleanField(read_only=True)
    code_url = serializers.CharField(read_only=True, help_text="The code, or empty.")
    project_url = serializers.CharField(read_only=True, help_text="A project page or demo, or empty.")

    class Meta:
        model = Paper
        fields = [
            "arxiv_id",
            "version",
            "title",
            "abstract",
            "authors",
            "primary_category",
            "categories",
            "submitted_at",
            "updated_at",
            "comment",
            "journal_ref",
            "doi",
            "code_url",
            "project_url",
            "has_code",
            "url",
            "api_url",
            "abs_url",
            "pdf_url",
        ]
        read_only_fields = fields

    def get_url(self, paper) -> str:
        return public_url("issues:paper", "arxiv_id", paper.arxiv_id)

    def get_api_url(self, paper) -> str:
        return public_url("api:paper-detail", "arxiv_id", paper.arxiv_id)

    def to_representation(self, paper):
        return paper_json(paper)


# The Paper columns paper_json reads (lists load only these, from .values() or .only()).
PAPER_JSON_COLUMNS = (
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "primary_category",
    "categories",
    "submitted_at",
    "updated_at",
    "comment",
    "journal_ref",
    "doi",
    "code_url",
    "project_url",
)


def paper_json(paper):
    """PaperSerializer's output, hand-written: DRF's generic field machinery costs more than the query."""
    return {
        "arxiv_id": paper.arxiv_id,
        "version": paper.version,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": [author_json(slug, name) for slug, name in author_rows(paper)],
        "primary_category": paper.primary_category,
        "categories": list(paper.categories or []),
        "submitted_at": utc_iso(paper.submitted_at),
        "updated_at": utc_iso(paper.updated_at),
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "has_code": bool(paper.code_url),
        "url": public_url("issues:paper", "arxiv_id", paper.arxiv_id),
        "api_url": public_url("api:paper-detail", "arxiv_id", paper.arxiv_id),
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
    }


def author_rows(paper):
    """(slug, name) of the paper's authors in order: from ``attach_authors`` when it ran."""
    rows = getattr(paper, "author_rows", None)
    if rows is not None:
        return rows
    authorships = sorted(paper.authorships.all(), key=lambda authorship: authorship.position)
    return [(a.author.slug, a.author.name) for a in authorships]


def attach_authors(papers):
    """Set ``author_rows`` on each paper with one query of plain tuples.

    A prefetch would build two model instances per author (authorship and
    author), which on a page of 50 picks costs more than everything else.
    """
    papers = [paper for paper in papers if paper is not None]
    rows = {paper.pk: [] for paper in papers}
    if rows:
        for paper_id, slug, name in (
            Authorship.objects.filter(paper_id__in=list(rows))
            .order_by("paper_id", "position")
            .values_list("paper_id", "author__slug", "author__name")
        ):
            rows[paper_id].append((slug, name))
    for paper in papers:
        paper.author_rows = rows[paper.pk]
    return papers


class PaperPickSerializer(serializers.ModelSerializer):
    """Where a paper was picked: the issue and the position in it."""

    issue = serializers.SlugRelatedField(slug_field="slug", read_only=True, help_text="The issue's slug.")
    issue_title = serializers.CharField(source="issue.title", read_only=True)
    url = serializers.SerializerMethodField(help_text="The pick on the issue's public page.")

    class Meta:
        model = Pick
        fields = ["id", "issue", "issue_title", "position", "url"]
        read_only_fields = fields

    def get_url(self, pick) -> str:
        return f"{public_url('issues:issue', 'slug', pick.issue.slug)}#pick-{pick.position}"


class PaperDetailSerializer(PaperSerializer):
    picks = PaperPickSerializer(source="published_picks", many=True, read_only=True)

    class Meta(PaperSerializer.Meta):
        fields = PaperSerializer.Meta.fields + ["picks"]
        read_only_fields = fields

    def to_representation(self, paper):
        data = super().to_representation(paper)
        data["picks"] = PaperPickSerializer(paper.published_picks, many=True).data
        return data


class AuthorPaperSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    api_url = serializers.SerializerMethodField()

    class Meta:
        model = Paper
        fields = ["arxiv_id", "title", "url", "api_url"]
        read_only_fields = fields

    def get_url(self, paper) -> str:
        return public_url("issues:paper", "arxiv_id", paper.arxiv_id)

    def get_api_url(self, paper) -> str:
        return public_url("api:paper-detail", "arxiv_id", paper.arxiv_id)


class AuthorPickSerializer(PaperPickSerializer):
    paper = AuthorPaperSerializer(read_only=True)

    class Meta(PaperPickSerializer.Meta):
        fields = PaperPickSerializer.Meta.fields + ["paper"]
        read_only_fields = fields


class AuthorDetailSerializer(AuthorSerializer):
    picks = AuthorPickSerializer(source="published_picks", many=True, read_only=True)

    class Meta(AuthorSerializer.Meta):
        fields = AuthorSerializer.Meta.fields + ["picks"]
        read_only_fields = fields

    def to_representation(self, author):
        data = super().to_representation(author)
        data["picks"] = AuthorPickSerializer(author.published_picks, many=True).data
        return data


class AddPapersSerializer(StrictSerializer):
    ids = serializers.ListField(
        child=StrictCharField(max_length=500, allow_blank=False),
        min_length=1,
        max_length=100,
        help_text="arXiv ids or URLs in any form: 2103.10360, arXiv:2103.10360v2, "
        "https://arxiv.org/abs/2103.10360, hep-th/9901001.",
    )


class AddPaperResultSerializer(serializers.Serializer):
    input = serializers.CharField(help_text="The text as sent.")
    arxiv_id = serializers.CharField(allow_blank=True, help_text="The versionless id, when it parsed.")
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"])
    message = serializers.CharField(allow_blank=True)


class AddPapersResponseSerializer(serializers.Serializer):
    results = AddPaperResultSerializer(many=True)


# Views --------------------------------------------------------------------------

PAPER_ORDERING = Ordering(
    {"-submitted": ("-submitted_at", "-pk"), "submitted": ("submitted_at", "pk")}, default="-submitted"
)
AUTHOR_ORDERING = Ordering({"name": ("name", "pk"), "-name": ("-name", "-pk")}, default="name")

_ID_PARAMETER = OpenApiParameter(
    "arxiv_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Any form of the arXiv id: 2103.10360, 2103.10360v2, arXiv:2103.10360. "
    "Old-style ids contain a slash: hep-th/9901001.",
    examples=[OpenApiExample("new style", value="2103.03230")],
)


@extend_schema_view(
    get=extend_schema(
        summary="List published papers",
        description="Papers picked in a published issue, newest submission first.",
        parameters=[
            OpenApiParameter(
                "category",
                {"type": "string", "maxLength": 32},
                description="arXiv category, e.g. cs.LG.",
            ),
            PAPER_ORDERING.parameter(),
        ],
        tags=["papers"],
    ),
    post=extend_schema(
        summary="Add papers by id (curators)",
        description="Fetches each id from arXiv (or updates it) and returns one result per id; "
        "a bad id is reported in its result and does not stop the others.",
        request=AddPapersSerializer,
        responses={200: AddPapersResponseSerializer},
        examples=[
            OpenApiExample("two ids", value={"ids": ["2103.03230", "arXiv:2104.14294v2"]}, request_only=True),
            OpenApiExample(
                "per-id results",
                value={
                    "results": [
                        {"input": "2103.03230", "arxiv_id": "2103.03230", "status": "created", "message": ""},
                        {
                            "input": "nonsense",
                            "arxiv_id": "",
                            "status": "error",
                            "message": "“nonsense” is not an arXiv id or arXiv URL.",
                        },
                    ]
                },
                response_only=True,
            ),
        ],
        tags=["curation"],
    ),
)
class PaperList(KnownQueryParametersMixin, ConditionalReadMixin, generics.ListAPIView):
    serializer_class = PaperSerializer
    pagination_class = CursorPage
    ordering = PAPER_ORDERING
    query_parameters = (*PAGE_PARAMETERS, "category")

    def get_query_parameters(self):
        return self.query_parameters if self.request.method == "GET" else ()

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsCurator()]
        return super().get_permissions()

    def get_queryset(self):
        papers = public_papers()
        category = text_param(self.request.query_params, "category", 32)
        if category:
            papers = papers.in_category(category)
        return papers

    def list(self, request, *args, **kwargs):
        page = attach_authors(self.paginate_queryset(self.get_queryset()))
        self.last_modified = latest(*(paper.modified for paper in page))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def post(self, request):
        body = AddPapersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = harvest.add_papers_by_id(body.validated_data["ids"], by=request.user)
        return Response({"results": [_result_dict(result) for result in results]})


def _result_dict(result):
    """The harvester's per-id result (dataclass or dict) as the API's result."""
    get = result.get if isinstance(result, dict) else lambda name, default="": getattr(result, name, default)
    return {
        "input": str(get("input", "") or ""),
        "arxiv_id": str(get("arxiv_id", "") or ""),
        "status": str(get("status", "error")),
        "message": str(get("message", "") or ""),
    }


def resolve_arxiv_id(text):
    """The versionless id in any form the harvester accepts; 404 naming the text otherwise."""
    try:
        return parse_arxiv_id(text).id
    except ValueError as error:
        raise Http404(str(error)) from None


@extend_schema_view(
    get=extend_schema(
        summary="One published paper",
        description="The paper with its authors and the published picks it appears in.",
        parameters=[_ID_PARAMETER],
        tags=["papers"],
    )
)
class PaperDetail(KnownQueryParametersMixin, ConditionalReadMixin, generics.RetrieveAPIView):
    serializer_class = PaperDetailSerializer

    def get_object(self):
        arxiv_id = resolve_arxiv_id(self.kwargs["arxiv_id"])
        paper = (
            public_papers()
            .prefetch_related(
                Prefetch(
                    "picks",
                    queryset=published_picks().select_related("issue").order_by("-issue__published_at"),
                    to_attr="published_picks",
                ),
            )
            .filter(arxiv_id=arxiv_id)
            .first()
        )
        if paper is None:
            raise Http404(f"No published pick of paper {arxiv_id}.")
        attach_authors([paper])
        self.last_modified = latest(
            paper.modified, *(pick.issue.updated_at for pick in paper.published_picks)
        )
        return paper


@extend_schema_view(
    get=extend_schema(
        summary="List authors of published picks",
        parameters=[
            OpenApiParameter(
                "q", {"type": "string", "maxLength": 100}, description="Part of the author's name."
            ),
            AUTHOR_ORDERING.parameter(),
        ],
        tags=["authors"],
    )
)
class AuthorList(KnownQueryParametersMixin, ConditionalReadMixin, generics.ListAPIView):
    serializer_class = AuthorSerializer
    pagination_class = CursorPage
    ordering = AUTHOR_ORDERING
    query_parameters = (*PAGE_PARAMETERS, "q")

    def get_queryset(self):
        authors = public_authors()
        q = text_param(self.request.query_params, "q", 100)
        if q:
            authors = authors.filter(name__icontains=q)
        return authors


@extend_schema_view(
    get=extend_schema(
        summary="One author",
        description="The author and their published picks, newest issue first.",
        parameters=[
            OpenApiParameter(
                "slug",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The author's slug.",
                examples=[OpenApiExample("an author", value="jure-zbontar")],
            )
        ],
        tags=["authors"],
    )
)
class AuthorDetail(KnownQueryParametersMixin, ConditionalReadMixin, generics.RetrieveAPIView):
    serializer_class = AuthorDetailSerializer
    lookup_field = "slug"

    def get_object(self):
        author = public_authors().filter(slug=self.kwargs["slug"]).first()
        if author is None:
            raise Http404("No published pick by this author.")
        author.published_picks = list(
            published_picks()
            .filter(paper__authors=author)
            .select_related("issue", "paper")
            .order_by("-issue__published_at", "position")
        )
        self.last_modified = latest(*(pick.issue.updated_at for pick in author.published_picks))
        return author
