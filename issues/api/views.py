"""API views of issues and picks: public reads, then the curation workflow.

Public views start from ``Issue.objects.published()``. Curation views are thin
callers of the same functions as the admin (issues.editing,
issues.publishing): those check the caller's role again and do the work in
one transaction; the views translate their refusals into the error shape.
"""

from types import SimpleNamespace

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.api_errors import APIConflict
from curation.roles import IsCurator
from papers import arxiv_ids
from papers.api import PAPER_JSON_COLUMNS, attach_authors, resolve_arxiv_id
from papers.models import Paper

from .. import editing, publishing
from ..models import Figure, Issue, Pick
from .filters import PICK_PARAMETERS, filter_picks
from .reads import PAGE_PARAMETERS, ConditionalReadMixin, CursorPage, Ordering, latest
from .serializers import (
    IssueDetailSerializer,
    IssueSerializer,
    PickCreateSerializer,
    PickListSerializer,
    PickUpdateSerializer,
    ReorderSerializer,
    ScheduleSerializer,
    StaffIssueSerializer,
    StaffPickSerializer,
)
from .strict import KnownQueryParametersMixin

# The columns a pick's JSON reads: every other one (and its type conversion) is skipped.
PICK_COLUMNS = [
    "issue_id",
    "paper_id",
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
    *(f"paper__{name}" for name in PAPER_JSON_COLUMNS),
]
ISSUE_REF_COLUMNS = ["issue__slug", "issue__title", "issue__published_at", "issue__updated_at"]


def _pick_details(with_issue=True):
    """What a pick's JSON shows, in a fixed number of queries whatever the number of picks.

    Figures and authors are attached by ``with_details`` after the page is cut.
    """
    if with_issue:
        return Pick.objects.select_related("issue", "paper").only(*PICK_COLUMNS, *ISSUE_REF_COLUMNS)
    return Pick.objects.select_related("paper").only(*PICK_COLUMNS)


class _Row(SimpleNamespace):
    """Attribute access over a .values() row, for the same JSON functions as model instances."""


class _PaperRow(_Row):
    @property
    def abs_url(self):
        return arxiv_ids.abs_url(self.arxiv_id)

    @property
    def pdf_url(self):
        return arxiv_ids.pdf_url(self.arxiv_id)


class _PickRow(_Row):
    @property
    def title(self):
        return self.paper_title or self.paper.title


def pick_from_row(row):
    """A pick row of ``.values(*PICK_COLUMNS, *ISSUE_REF_COLUMNS)`` as an object the serializers read."""
    own, paper, issue = {}, {}, {}
    for key, value in row.items():
        if key.startswith("paper__"):
            paper[key[7:]] = value
        elif key.startswith("issue__"):
            issue[key[7:]] = value
        else:
            own[key] = value
    return _PickRow(
        pk=own["id"],
        paper=_PaperRow(pk=own["paper_id"], **paper),
        issue=_Row(pk=own["issue_id"], **issue),
        **own,
    )


def with_details(picks):
    """The picks as a list with their figures and their papers' authors, two queries in all.

    Plain queries instead of prefetch_related: on a page of 50 picks Django's
    prefetch machinery cost more than the rows themselves.
    """
    picks = list(picks)
    figures = {pick.pk: [] for pick in picks}
    if figures:
        for figure in Figure.objects.filter(pick_id__in=list(figures)).order_by("pick_id", "position", "pk"):
            figures[figure.pick_id].append(figure)
    for pick in picks:
        pick.ordered_figures = figures[pick.pk]
    attach_authors([pick.paper for pick in picks])
    return picks


# Public reads ------------------------------------------------------------------


ISSUE_ORDERING = Ordering(
    {
        "-published": ("-published_at", "-pk"),
        "published": ("published_at", "pk"),
        "-period": ("-period_start", "-pk"),
        "period": ("period_start", "pk"),
    },
    default="-published",
)
PICK_ORDERING = Ordering(
    {
        "-published": ("-published", "position", "pk"),
        "published": ("published", "position", "pk"),
        "-submitted": ("-submitted", "-pk"),
        "submitted": ("submitted", "pk"),
    },
    default="-published",
)


@extend_schema(
    summary="List published issues",
    description="Newest first by default. Drafts, issues in review and scheduled ones never appear.",
    parameters=[ISSUE_ORDERING.parameter()],
    tags=["issues"],
)
class IssueList(KnownQueryParametersMixin, ConditionalReadMixin, generics.ListAPIView):
    shared_cache = True
    serializer_class = IssueSerializer
    pagination_class = CursorPage
    ordering = ISSUE_ORDERING
    query_parameters = PAGE_PARAMETERS

    def get_queryset(self):
        return Issue.objects.published().annotate(pick_count=Count("picks"))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        self.last_modified = latest(*(issue.updated_at for issue in page))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(
    summary="One published issue",
    description="The issue with its ordered picks (paper, authors, commentary as Markdown and sanitized "
    "HTML, links, figures) and its numbered references.",
    parameters=[
        OpenApiParameter(
            "slug",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            description="The issue's permanent slug.",
            examples=[OpenApiExample("demo", value="april-2021")],
        )
    ],
    tags=["issues"],
)
class IssueDetail(KnownQueryParametersMixin, ConditionalReadMixin, generics.RetrieveAPIView):
    shared_cache = True
    serializer_class = IssueDetailSerializer

    def get_object(self):
        issue = Issue.objects.published().filter(slug=self.kwargs["slug"]).first()
        if issue is None:
            raise Http404(f"No published issue with the slug “{self.kwargs['slug'][:100]}”.")
        # Plain queries rather than a nested prefetch: cheaper, and the picks share this issue.
        picks = with_details(_pick_details(with_issue=False).filter(issue=issue).order_by("position"))
        for pick in picks:
            pick.issue = issue
        issue.ordered_picks = picks
        issue.pick_count = len(picks)
        self.last_modified = latest(issue.updated_at, *(pick.updated_at for pick in picks))
        return issue


@extend_schema(
    summary="List published picks",
    description="Every pick of every published issue, newest issue first by default, filterable.",
    parameters=[*PICK_PARAMETERS, PICK_ORDERING.parameter()],
    tags=["picks"],
)
class PickList(KnownQueryParametersMixin, ConditionalReadMixin, generics.ListAPIView):
    shared_cache = True
    serializer_class = PickListSerializer
    pagination_class = CursorPage
    ordering = PICK_ORDERING
    query_parameters = (*PAGE_PARAMETERS, *(parameter.name for parameter in PICK_PARAMETERS))

    def get_queryset(self):
        picks = Pick.objects.filter(issue__in=Issue.objects.published())
        # Cursor pages order by a field of the pick row itself: annotate the related ones.
        picks = picks.annotate(published=F("issue__published_at"), submitted=F("paper__submitted_at"))
        picks = filter_picks(picks, self.request.query_params)
        # Plain rows, not model instances: building three instances per pick cost three
        # times the query on a 50-pick page (bench/api.py).
        return picks.values("id", "published", "submitted", *PICK_COLUMNS, *ISSUE_REF_COLUMNS)

    def list(self, request, *args, **kwargs):
        page = with_details([pick_from_row(row) for row in self.paginate_queryset(self.get_queryset())])
        self.last_modified = latest(*(p.updated_at for p in page), *(p.issue.updated_at for p in page))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# Curation: shared lookups -----------------------------------------------------------


def staff_issue(slug):
    """Any issue, whatever its status: only reached after the curator permission check."""
    return get_object_or_404(Issue.objects.all(), slug=slug)


def paper_by_arxiv_id(arxiv_id):
    arxiv_id = resolve_arxiv_id(arxiv_id)
    paper = Paper.objects.filter(arxiv_id=arxiv_id).first()
    if paper is None:
        raise Http404(f"No paper {arxiv_id} in the database; add it with POST /api/v1/papers/ first.")
    return paper


def _validation_error(error):
    """Django's ValidationError from the editing functions → DRF's 400, fields kept."""
    if hasattr(error, "message_dict"):
        return ValidationError({k: list(v) for k, v in error.message_dict.items()})
    return ValidationError(error.messages)


def _edit_conflict(error):
    return APIConflict(
        str(error),
        code="edit_conflict",
        details={
            "lock_version": error.lock_version,
            "changes": [
                {key: str(value) if value is not None else None for key, value in change.items()}
                for change in error.changes
            ],
            "editors": [str(editor) for editor in error.editors],
        },
    )


def _transition_error(error):
    return APIConflict(
        error.problems[0] if len(error.problems) == 1 else "The transition was refused.",
        code="transition_refused",
        details={"problems": error.problems},
    )


SLUG_PARAMETER = OpenApiParameter(
    "slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The issue's slug (any status: drafts too).",
    examples=[OpenApiExample("demo issue", value="april-2021")],
)


# Picks ------------------------------------------------------------------------------


class IssuePicks(KnownQueryParametersMixin, APIView):
    """The picks of an issue in any status (drafts too), for curators and editors."""

    permission_classes = [IsCurator]

    @extend_schema(
        summary="List an issue's picks (curators; drafts too)",
        parameters=[SLUG_PARAMETER],
        responses={200: StaffPickSerializer(many=True)},
        tags=["curation"],
    )
    def get(self, request, slug):
        issue = staff_issue(slug)
        picks = with_details(_pick_details().filter(issue=issue).order_by("position"))
        return Response(StaffPickSerializer(picks, many=True).data)

    @extend_schema(
        summary="Add a pick (curators)",
        description="Adds the paper as the issue's last pick. The paper must be in the database.",
        parameters=[SLUG_PARAMETER],
        request=PickCreateSerializer,
        responses={201: StaffPickSerializer},
        examples=[
            OpenApiExample(
                "add",
                value={"arxiv_id": "2103.03230", "why": "Because…", "key_insights": "- one\n- two"},
                request_only=True,
            )
        ],
        tags=["curation"],
    )
    def post(self, request, slug):
        issue = staff_issue(slug)
        body = PickCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        paper = paper_by_arxiv_id(fields.pop("arxiv_id"))
        try:
            pick = editing.add_pick(issue, paper, by=request.user, **fields)
        except DjangoValidationError as error:
            raise _validation_error(error) from None
        return Response(
            StaffPickSerializer(with_details(_pick_details().filter(pk=pick.pk))[0]).data, status=201
        )


class IssuePickDetail(KnownQueryParametersMixin, APIView):
    permission_classes = [IsCurator]

    def _pick(self, slug, pk):
        issue = staff_issue(slug)
        return with_details([get_object_or_404(_pick_details().filter(issue=issue), pk=pk)])[0]

    @extend_schema(
        summary="One pick of an issue (curators)",
        parameters=[SLUG_PARAMETER],
        responses={200: StaffPickSerializer},
        tags=["curation"],
    )
    def get(self, request, slug, pk):
        return Response(StaffPickSerializer(self._pick(slug, pk)).data)

    @extend_schema(
        summary="Edit a pick (curators; editors once scheduled or published)",
        description="Send the `lock_version` you read: if someone saved since, 409 with what changed.",
        parameters=[SLUG_PARAMETER],
        request=PickUpdateSerializer,
        responses={200: StaffPickSerializer},
        examples=[
            OpenApiExample("edit", value={"why": "Sharper text.", "lock_version": 3}, request_only=True)
        ],
        tags=["curation"],
    )
    def patch(self, request, slug, pk):
        pick = self._pick(slug, pk)
        body = PickUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        lock_version = data.pop("lock_version")
        try:
            editing.update_pick(pick, by=request.user, data=data, lock_version=lock_version)
        except editing.EditConflict as error:
            raise _edit_conflict(error) from None
        except DjangoValidationError as error:
            raise _validation_error(error) from None
        return Response(StaffPickSerializer(with_details(_pick_details().filter(pk=pick.pk))[0]).data)

    @extend_schema(
        summary="Remove a pick (curators)",
        description="Later picks move up; the pick's last text stays in the issue's history.",
        parameters=[SLUG_PARAMETER],
        request=None,
        responses={204: None},
        tags=["curation"],
    )
    def delete(self, request, slug, pk):
        editing.remove_pick(self._pick(slug, pk), by=request.user)
        return Response(status=204)


class IssuePicksReorder(KnownQueryParametersMixin, APIView):
    permission_classes = [IsCurator]

    @extend_schema(
        summary="Reorder an issue's picks (curators)",
        parameters=[SLUG_PARAMETER],
        request=ReorderSerializer,
        responses={200: StaffPickSerializer(many=True)},
        examples=[OpenApiExample("order", value={"pick_ids": [12, 10, 11]}, request_only=True)],
        tags=["curation"],
    )
    def post(self, request, slug):
        issue = staff_issue(slug)
        body = ReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            editing.reorder_picks(issue, body.validated_data["pick_ids"], by=request.user)
        except DjangoValidationError as error:
            raise _validation_error(error) from None
        return Response(
            StaffPickSerializer(
                with_details(_pick_details().filter(issue=issue).order_by("position")), many=True
            ).data
        )


# Triage queue --------------------------------------------------------------------------

# Transitions -------------------------------------------------------------------------

_TRANSITIONS = ["submit", "schedule", "publish", "unpublish"]


class IssueTransition(KnownQueryParametersMixin, APIView):
    permission_classes = [IsCurator]

    @extend_schema(
        summary="Move an issue through its workflow",
        description="`submit` (curators): draft → in review. `schedule` (editors, body `publish_at`), "
        "`publish` and `unpublish` (editors). A refusal lists every problem in `details.problems` (409).",
        parameters=[
            SLUG_PARAMETER,
            OpenApiParameter("transition", OpenApiTypes.STR, OpenApiParameter.PATH, enum=_TRANSITIONS),
        ],
        request=ScheduleSerializer,
        responses={200: StaffIssueSerializer},
        examples=[
            OpenApiExample("schedule", value={"publish_at": "2026-12-01T08:00:00Z"}, request_only=True)
        ],
        tags=["curation"],
    )
    def post(self, request, slug, transition):
        if transition not in _TRANSITIONS:
            raise Http404(f"Unknown transition “{transition[:30]}”; use one of: {', '.join(_TRANSITIONS)}.")
        issue = staff_issue(slug)
        try:
            if transition == "submit":
                issue = publishing.submit_for_review(issue, by=request.user)
            elif transition == "schedule":
                body = ScheduleSerializer(data=request.data)
                body.is_valid(raise_exception=True)
                issue = publishing.schedule_issue(
                    issue, by=request.user, publish_at=body.validated_data["publish_at"]
                )
            elif transition == "publish":
                issue = publishing.publish_issue(issue, by=request.user)
            else:
                issue = publishing.unpublish_issue(issue, by=request.user)
        except publishing.TransitionError as error:
            raise _transition_error(error) from None
        return Response(StaffIssueSerializer(issue).data)
