"""API views of issues, picks, papers and authors: public reads, then the curation workflow.

Public viewsets start from ``Issue.objects.published()``: only papers picked in
a published issue, and their authors, are public (the rule of the public
paper and author pages). Their ``get_queryset`` loads everything the
serializers show, so a page costs a fixed number of queries.

Curation viewsets are thin callers of the functions the admin uses
(issues.editing, issues.publishing): those check the caller's role and the
issue's state again and do the work in one transaction. Their refusals
(PermissionDenied, ValidationError, TransitionError, EditConflict) propagate
to the API's exception handler, which answers in the common error shape.
"""

from django.db.models import Count, F, Prefetch
from django.http import Http404
from django.utils.functional import cached_property
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from curation.api_filters import FilterBackend
from curation.api_input import KnownQueryParametersMixin
from curation.pagination import CursorPage, Ordering
from curation.roles import IsCurator
from papers.api import AddPapersMixin, resolve_arxiv_id
from papers.models import Author, Authorship, Paper

from .. import editing, publishing
from ..models import Figure, Issue, Pick
from . import errors  # noqa: F401 - registers how TransitionError and EditConflict reach clients
from .filters import AuthorFilter, PaperFilter, PickFilter
from .reads import ConditionalReadMixin, latest
from .serializers import (
    AuthorDetailSerializer,
    AuthorSerializer,
    IssueDetailSerializer,
    IssueSerializer,
    PaperDetailSerializer,
    PaperSerializer,
    PickCreateSerializer,
    PickUpdateSerializer,
    PickWithIssueSerializer,
    ReorderSerializer,
    ScheduleSerializer,
    StaffIssueSerializer,
    StaffPickSerializer,
)

# The columns the JSON of a pick, its paper and its issue reads (serializers.py), plus what
# Last-Modified needs: loading only these takes a sixth off a page of 50 picks (bench/api.py).
# A column missing here would cost a query per row, which tests/api/test_query_counts.py catches.
PICK_COLUMNS = (
    "issue",
    "paper",
    "position",
    "why",
    "why_html",
    "key_insights",
    "key_insights_html",
    "code_url",
    "demo_url",
    "paper_version",
    "paper_title",
    "updated_at",
    "lock_version",
)
PAPER_COLUMNS = (
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
    "modified",
)
ISSUE_REF_COLUMNS = ("slug", "title", "published_at", "updated_at")
# Large columns no list shows: an issue's texts.
UNSHOWN_ISSUE_FIELDS = ("intro", "intro_html", "outro", "outro_html", "references")


def ordered_authors(lookup):
    """Prefetch papers' authors in arXiv's order into ``paper.authors_in_order``: one query.

    A list attribute (``to_attr``), not the ``authors`` manager: Django then skips
    building a queryset per paper, which on a page of 50 costs more than the rows.
    """
    return Prefetch(
        lookup,
        queryset=Author.objects.order_by("authorships__position").only("slug", "name"),
        to_attr="authors_in_order",
    )


def ordered_figures(lookup):
    """Prefetch picks' figures in their order into ``pick.figures_in_order`` (as above)."""
    return Prefetch(lookup, queryset=Figure.objects.order_by("position", "pk"), to_attr="figures_in_order")


def picks_with_details(*, with_issue=True):
    """Picks with everything their JSON shows: paper, its ordered authors, figures (and issue)."""
    columns = [*PICK_COLUMNS, *(f"paper__{name}" for name in PAPER_COLUMNS)]
    related = ["paper"]
    if with_issue:
        columns += [f"issue__{name}" for name in ISSUE_REF_COLUMNS]
        related.append("issue")
    return (
        Pick.objects.select_related(*related)
        .only(*columns)
        .prefetch_related(ordered_authors("paper__authors"), ordered_figures("figures"))
    )


def paper_in_database(text):
    """The Paper of an arXiv id in any form; 404 naming it when it isn't in the database."""
    arxiv_id = resolve_arxiv_id(text)
    paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
    if paper is None:
        raise Http404(f"No paper {arxiv_id} in the database; add it with POST /api/v1/papers/ first.")
    return paper


class PublicReadMixin(ConditionalReadMixin, KnownQueryParametersMixin):
    """A public read: cursor pages of ``ordering``, filters of ``filterset_class``, conditional GET."""

    pagination_class = CursorPage
    filter_backends = [FilterBackend]


SLUG_PARAMETER = OpenApiParameter(
    "slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The issue's permanent slug.",
    examples=[OpenApiExample("demo issue", value="april-2021")],
)
ARXIV_ID_PARAMETER = OpenApiParameter(
    "arxiv_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Any form of the arXiv id: 2103.10360, 2103.10360v2, arXiv:2103.10360. "
    "Old-style ids contain a slash: hep-th/9901001.",
    examples=[OpenApiExample("new style", value="2103.03230")],
)


# Public reads --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        operation_id="list_issues",
        summary="List published issues",
        description="Newest first by default. Drafts, issues in review and scheduled ones never appear.",
        tags=["issues"],
    ),
    retrieve=extend_schema(
        operation_id="get_issue",
        summary="One published issue",
        description="The issue with its ordered picks (paper, authors, commentary as Markdown and "
        "sanitized HTML, links, figures) and its numbered references.",
        parameters=[SLUG_PARAMETER],
        tags=["issues"],
    ),
)
class IssueViewSet(PublicReadMixin, viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"
    shared_cache = True
    ordering = Ordering(
        {
            "-published": ("-published_at", "-pk"),
            "published": ("published_at", "pk"),
            "-period": ("-period_start", "-pk"),
            "period": ("period_start", "pk"),
        },
        default="-published",
    )

    def get_queryset(self):
        issues = Issue.objects.published()
        if self.action == "list":
            return issues.annotate(pick_count=Count("picks")).defer(*UNSHOWN_ISSUE_FIELDS)
        # The picks' ``issue`` is this issue: Django sets it on each prefetched pick.
        picks = picks_with_details(with_issue=False).order_by("position")
        return issues.prefetch_related(Prefetch("picks", queryset=picks))

    def get_serializer_class(self):
        return IssueSerializer if self.action == "list" else IssueDetailSerializer

    def last_modified(self, issues):
        if self.action == "list":
            return latest(*(issue.updated_at for issue in issues))
        return latest(
            *(issue.updated_at for issue in issues), *(p.updated_at for i in issues for p in i.picks.all())
        )


@extend_schema_view(
    list=extend_schema(
        operation_id="list_picks",
        summary="List published picks",
        description="Every pick of every published issue, newest issue first by default, filterable.",
        tags=["picks"],
    )
)
class PickViewSet(PublicReadMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = PickWithIssueSerializer
    filterset_class = PickFilter
    shared_cache = True
    ordering = Ordering(
        {
            "-published": ("-published", "position", "pk"),
            "published": ("published", "position", "pk"),
            "-submitted": ("-submitted", "-pk"),
            "submitted": ("submitted", "pk"),
        },
        default="-published",
    )

    def get_queryset(self):
        # Cursor pages order by a field of the pick row itself: annotate the related ones.
        return (
            picks_with_details()
            .published()
            .annotate(published=F("issue__published_at"), submitted=F("paper__submitted_at"))
        )

    def last_modified(self, picks):
        return latest(*(pick.updated_at for pick in picks), *(pick.issue.updated_at for pick in picks))


@extend_schema_view(
    list=extend_schema(
        operation_id="list_papers",
        summary="List published papers",
        description="Papers picked in a published issue, newest submission first.",
        tags=["papers"],
    ),
    retrieve=extend_schema(
        operation_id="get_paper",
        summary="One published paper",
        description="The paper with its authors and the published picks it appears in.",
        parameters=[ARXIV_ID_PARAMETER],
        tags=["papers"],
    ),
)
class PaperViewSet(AddPapersMixin, PublicReadMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = PaperFilter
    ordering = Ordering(
        {"-submitted": ("-submitted_at", "-pk"), "submitted": ("submitted_at", "pk")}, default="-submitted"
    )

    def get_queryset(self):
        papers = (
            Pick.objects.published()
            .papers()
            .only(*PAPER_COLUMNS)
            .prefetch_related(ordered_authors("authors"))
        )
        if self.action == "retrieve":
            picks = (
                Pick.objects.published()
                .select_related("issue")
                .only("position", "issue", "paper", *(f"issue__{name}" for name in ISSUE_REF_COLUMNS))
                .order_by("-issue__published_at", "position")
            )
            papers = papers.prefetch_related(Prefetch("picks", queryset=picks, to_attr="published_picks"))
        return papers

    def get_object(self):
        arxiv_id = resolve_arxiv_id(self.kwargs["arxiv_id"])
        paper = self.get_queryset().filter(arxiv_id=arxiv_id).first()
        if paper is None:
            raise Http404(f"No published pick of paper {arxiv_id}.")
        return paper

    def get_serializer_class(self):
        return PaperDetailSerializer if self.action == "retrieve" else PaperSerializer

    def last_modified(self, papers):
        picks = (pick for paper in papers for pick in getattr(paper, "published_picks", ()))
        return latest(*(paper.modified for paper in papers), *(pick.issue.updated_at for pick in picks))


@extend_schema_view(
    list=extend_schema(
        operation_id="list_authors",
        summary="List authors of published picks",
        tags=["authors"],
    ),
    retrieve=extend_schema(
        operation_id="get_author",
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
    ),
)
class AuthorViewSet(PublicReadMixin, viewsets.ReadOnlyModelViewSet):
    filterset_class = AuthorFilter
    lookup_field = "slug"
    ordering = Ordering({"name": ("name", "pk"), "-name": ("-name", "-pk")}, default="name")

    def get_queryset(self):
        return Pick.objects.published().authors().only("slug", "name")

    def get_serializer_class(self):
        return AuthorDetailSerializer if self.action == "retrieve" else AuthorSerializer

    def get_object(self):
        author = self.get_queryset().filter(slug=self.kwargs["slug"]).first()
        if author is None:
            raise Http404("No published pick by this author.")
        # Picks reach authors through papers: one query with the picks' issues and papers,
        # where a prefetch would walk authors → papers → picks in three.
        author.published_picks = list(
            Pick.objects.published()
            .filter(paper__in=Authorship.objects.filter(author=author).values("paper"))
            .select_related("issue", "paper")
            .only(
                "position",
                "issue",
                "paper",
                *(f"issue__{name}" for name in ISSUE_REF_COLUMNS),
                "paper__arxiv_id",
                "paper__title",
            )
            .order_by("-issue__published_at", "position")
        )
        return author

    def last_modified(self, authors):
        return latest(
            *(pick.issue.updated_at for author in authors for pick in getattr(author, "published_picks", ()))
        )


# Curation ----------------------------------------------------------------------------


class IssueStaffMixin:
    """Endpoints of any issue, whatever its status (drafts too): curators and editors only."""

    permission_classes = [IsCurator]

    @cached_property
    def issue(self):
        issue = Issue.objects.filter(slug=self.kwargs["slug"]).first()
        if issue is None:
            raise Http404(f"No issue with the slug “{self.kwargs['slug'][:100]}”.")
        return issue


STAFF_SLUG_PARAMETER = OpenApiParameter(
    "slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The issue's slug (any status: drafts too).",
    examples=[OpenApiExample("demo issue", value="april-2021")],
)


@extend_schema_view(
    list=extend_schema(
        operation_id="list_issue_picks",
        summary="List an issue's picks (curators; drafts too)",
        description="All of them, in the issue's order: a plain list, not a cursor page "
        "(an issue has a few dozen picks at most).",
        parameters=[STAFF_SLUG_PARAMETER],
        tags=["curation"],
    ),
    retrieve=extend_schema(
        operation_id="get_issue_pick",
        summary="One pick of an issue (curators)",
        parameters=[STAFF_SLUG_PARAMETER],
        tags=["curation"],
    ),
    create=extend_schema(
        operation_id="add_pick",
        summary="Add a pick (curators)",
        description="Adds the paper as the issue's last pick. The paper must be in the database.",
        parameters=[STAFF_SLUG_PARAMETER],
        request=PickCreateSerializer,
        responses={status.HTTP_201_CREATED: StaffPickSerializer},
        examples=[
            OpenApiExample(
                "add",
                value={"arxiv_id": "2103.03230", "why": "Because…", "key_insights": "- one\n- two"},
                request_only=True,
            )
        ],
        tags=["curation"],
    ),
    partial_update=extend_schema(
        operation_id="edit_pick",
        summary="Edit a pick (curators; editors once scheduled or published)",
        description="Send the `lock_version` you read: if someone saved since, 409 with what changed.",
        parameters=[STAFF_SLUG_PARAMETER],
        request=PickUpdateSerializer,
        responses={status.HTTP_200_OK: StaffPickSerializer},
        examples=[
            OpenApiExample("edit", value={"why": "Sharper text.", "lock_version": 3}, request_only=True)
        ],
        tags=["curation"],
    ),
    destroy=extend_schema(
        operation_id="remove_pick",
        summary="Remove a pick (curators)",
        description="Later picks move up; the pick's last text stays in the issue's history.",
        parameters=[STAFF_SLUG_PARAMETER],
        responses={status.HTTP_204_NO_CONTENT: None},
        tags=["curation"],
    ),
    reorder=extend_schema(
        operation_id="reorder_picks",
        summary="Reorder an issue's picks (curators)",
        parameters=[STAFF_SLUG_PARAMETER],
        request=ReorderSerializer,
        responses={status.HTTP_200_OK: StaffPickSerializer(many=True)},
        examples=[OpenApiExample("order", value={"pick_ids": [12, 10, 11]}, request_only=True)],
        tags=["curation"],
    ),
)
class IssuePickViewSet(
    IssueStaffMixin,
    KnownQueryParametersMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = StaffPickSerializer

    def get_queryset(self):
        return picks_with_details().filter(issue=self.issue).order_by("position")

    def _read(self, pick):
        """The pick as it is now, with everything its JSON shows."""
        return self.get_serializer(self.get_queryset().get(pk=pick.pk)).data

    def create(self, request, *args, **kwargs):
        body = PickCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        paper = paper_in_database(fields.pop("arxiv_id"))
        pick = editing.add_pick(self.issue, paper, by=request.user, **fields)
        return Response(self._read(pick), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        pick = self.get_object()
        body = PickUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lock_version = data.pop("lock_version")
        editing.update_pick(pick, by=request.user, data=data, lock_version=lock_version)
        return Response(self._read(pick))

    def destroy(self, request, *args, **kwargs):
        editing.remove_pick(self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["post"])
    def reorder(self, request, *args, **kwargs):
        body = ReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        editing.reorder_picks(self.issue, body.validated_data["pick_ids"], by=request.user)
        return Response(self.get_serializer(self.get_queryset(), many=True).data)


def _transition(operation_id, summary, description, request=None, examples=()):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=f"{description} A refusal lists every problem in `details.problems` (409).",
        parameters=[STAFF_SLUG_PARAMETER],
        request=request,
        responses={status.HTTP_200_OK: StaffIssueSerializer},
        examples=list(examples),
        tags=["curation"],
    )


class IssueWorkflowViewSet(IssueStaffMixin, KnownQueryParametersMixin, viewsets.GenericViewSet):
    """An issue's way through its workflow: one action per transition."""

    serializer_class = StaffIssueSerializer

    def _answer(self, issue):
        return Response(self.get_serializer(issue).data)

    @_transition("submit_issue", "Submit an issue for review (curators)", "Draft → in review.")
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        return self._answer(publishing.submit_for_review(self.issue, by=request.user))

    @_transition(
        "schedule_issue",
        "Schedule an issue (editors)",
        "It goes out by itself at `publish_at`.",
        request=ScheduleSerializer,
        examples=[
            OpenApiExample("schedule", value={"publish_at": "2026-12-01T08:00:00Z"}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request, *args, **kwargs):
        body = ScheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        publish_at = body.validated_data["publish_at"]
        return self._answer(publishing.schedule_issue(self.issue, by=request.user, publish_at=publish_at))

    @_transition("publish_issue", "Publish an issue now (editors)", "Readers see it at once.")
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        return self._answer(publishing.publish_issue(self.issue, by=request.user))

    @_transition(
        "unpublish_issue", "Unpublish an issue (editors)", "Back to draft: readers no longer see it."
    )
    @action(detail=True, methods=["post"])
    def unpublish(self, request, *args, **kwargs):
        return self._answer(publishing.unpublish_issue(self.issue, by=request.user))
