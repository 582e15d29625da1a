"""The triage queue in the JSON API (curators): an issue's candidates and the actions on them.

Thin callers of triage/decisions.py, which checks the role again and records
the event; refusals become the API's error shape.
"""

from django import forms
from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.api_errors import APIConflict
from curation.roles import IsCurator
from issues.api.reads import PAGE_PARAMETERS, CursorPage, Ordering, UTCDateTimeField
from issues.api.strict import KnownQueryParametersMixin, StrictCharField, StrictChoiceField, StrictSerializer
from issues.api.views import SLUG_PARAMETER, paper_by_arxiv_id, staff_issue

from . import decisions
from .models import Candidate, PaperScore, TriageDecision, Vote
from .views import QueueFilterForm
from .watchlists import Watchlist

CANDIDATE_ORDERING = Ordering(
    {
        "-score": ("-queue_score", "-submitted_at", "-pk"),
        "-submitted": ("-submitted_at", "-pk"),
        "submitted": ("submitted_at", "pk"),
    },
    default="-score",
)


class CandidateSerializer(serializers.ModelSerializer):
    """A paper in an issue's triage queue (staff only)."""

    authors = serializers.SerializerMethodField()
    submitted_at = UTCDateTimeField(read_only=True)
    score = serializers.SerializerMethodField(help_text="The ranker's score; null before scoring.")
    explanation = serializers.SerializerMethodField(help_text="Why the ranker scored it so.")
    state = serializers.SerializerMethodField(help_text="new, shortlisted or rejected.")
    votes = serializers.SerializerMethodField(help_text="Sum of curators' votes.")
    code_url = serializers.CharField(read_only=True, help_text="A code link, or empty.")
    abs_url = serializers.URLField(read_only=True)
    pdf_url = serializers.URLField(read_only=True)

    class Meta:
        model = Candidate
        fields = [
            "arxiv_id",
            "version",
            "title",
            "authors",
            "primary_category",
            "submitted_at",
            "score",
            "explanation",
            "state",
            "votes",
            "code_url",
            "abs_url",
            "pdf_url",
        ]
        read_only_fields = fields

    def get_authors(self, paper) -> list[str]:
        return [author.name for author in paper.ordered_authors()]

    def get_score(self, paper) -> float | None:
        score = getattr(paper, "queue_score", None)
        if score is None:
            stored = _stored_score(paper)
            score = stored.score if stored else None
        return score

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_explanation(self, paper):
        stored = _stored_score(paper)
        return stored.explanation if stored else {}

    def get_state(self, paper) -> str:
        return getattr(paper, "queue_state", None) or "new"

    def get_votes(self, paper) -> int:
        return int(getattr(paper, "queue_votes", 0) or 0)


def _stored_score(paper):
    try:
        return paper.score
    except PaperScore.DoesNotExist:
        return None


class NoteSerializer(StrictSerializer):
    note = StrictCharField(required=False, allow_blank=True, max_length=5000)


class VoteSerializer(StrictSerializer):
    value = StrictChoiceField(choices=[1, -1, 0], help_text="+1, −1, or 0 to withdraw your vote.")


class TriageResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    arxiv_id = serializers.CharField()
    state = serializers.CharField(help_text="The paper's state in the queue after the action.")
    message = serializers.CharField(allow_blank=True)


# The admin queue's filters, minus its page number (cursor pages here) and "new since my
# last session" (recording a session is the queue page's job, not a read's).
QUEUE_FILTERS = [name for name in QueueFilterForm.base_fields if name not in ("page", "since")]


def _queue_parameter(name):
    field = QueueFilterForm.base_fields[name]
    if isinstance(field, forms.BooleanField):
        return OpenApiParameter(name, OpenApiTypes.BOOL, description=f"{field.label or name}: true to apply.")
    if isinstance(field, forms.DateField):
        return OpenApiParameter(name, OpenApiTypes.DATE, description=f"{field.label}: YYYY-MM-DD.")
    if isinstance(field, forms.IntegerField):
        return OpenApiParameter(
            name,
            {"type": "integer", "minimum": field.min_value, "maximum": field.max_value},
            description=str(field.label),
        )
    if isinstance(field, forms.ChoiceField):
        return OpenApiParameter(
            name,
            OpenApiTypes.STR,
            enum=[value for value, _ in field.choices if value],
            description="Triage state; absent means new + shortlisted.",
        )
    return OpenApiParameter(
        name, {"type": "string", "maxLength": field.max_length}, description=str(field.label or name)
    )


class Candidates(KnownQueryParametersMixin, generics.ListAPIView):
    """The issue's triage queue, best score first: the admin queue's papers and filters."""

    permission_classes = [IsCurator]
    serializer_class = CandidateSerializer
    pagination_class = CursorPage
    ordering = CANDIDATE_ORDERING
    query_parameters = (*PAGE_PARAMETERS, *QUEUE_FILTERS)

    @extend_schema(
        summary="An issue's triage queue (curators)",
        description="Ranked candidates with score, explanation, state and votes, filtered as in the "
        "admin queue. Rejected papers leave every later queue. Unscored papers come last.",
        parameters=[
            SLUG_PARAMETER,
            *(_queue_parameter(name) for name in QUEUE_FILTERS),
            CANDIDATE_ORDERING.parameter(),
        ],
        tags=["curation"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        issue = staff_issue(self.kwargs["slug"])
        form = QueueFilterForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        watchlist = Watchlist.of(self.request.user) if form.cleaned_data.get("watch") else None
        papers = Candidate.objects.queue(issue, self.request.user, form.cleaned_data, watchlist=watchlist)
        decisions = TriageDecision.objects.filter(issue=issue, paper=OuterRef("pk"))
        votes = (
            Vote.objects.filter(issue=issue, paper=OuterRef("pk"))
            .values("paper")
            .annotate(total=Sum("value"))
            .values("total")
        )
        return (
            papers.with_authors()
            .select_related("score")
            .annotate(
                # Unscored papers sort after every score (scores are probabilities, ≥ 0).
                queue_score=Coalesce(F("score__score"), Value(-1.0)),
                queue_state=Subquery(decisions.values("state")[:1]),
                queue_votes=Subquery(votes),
            )
        )


_ACTIONS = ["shortlist", "reject", "reset", "vote", "undo"]


class CandidateAction(KnownQueryParametersMixin, APIView):
    permission_classes = [IsCurator]

    @extend_schema(
        summary="Triage a candidate (curators)",
        description="`shortlist` and `reject` take an optional `note`; `vote` takes `value` (+1, −1, 0); "
        "`reset` puts the paper back to new; `undo` undoes your own last triage change in the issue.",
        parameters=[
            SLUG_PARAMETER,
            OpenApiParameter(
                "arxiv_id",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The paper, in any id form.",
                examples=[OpenApiExample("a paper", value="2103.03230")],
            ),
            OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.PATH, enum=_ACTIONS),
        ],
        request=VoteSerializer,
        responses={200: TriageResultSerializer},
        examples=[
            OpenApiExample("vote", value={"value": 1}, request_only=True),
            OpenApiExample("shortlist note", value={"note": "Strong baseline."}, request_only=True),
        ],
        tags=["curation"],
    )
    def post(self, request, slug, arxiv_id, action):
        if action not in _ACTIONS:
            raise Http404(f"Unknown action “{action[:30]}”; use one of: {', '.join(_ACTIONS)}.")
        issue = staff_issue(slug)
        paper = paper_by_arxiv_id(arxiv_id)
        message = ""
        try:
            if action in ("shortlist", "reject"):
                body = NoteSerializer(data=request.data or {})
                body.is_valid(raise_exception=True)
                getattr(decisions, action)(
                    paper, issue, by=request.user, note=body.validated_data.get("note", "")
                )
            elif action == "reset":
                decisions.reset(paper, issue, by=request.user)
            elif action == "vote":
                body = VoteSerializer(data=request.data)
                body.is_valid(raise_exception=True)
                decisions.vote(paper, issue, by=request.user, value=body.validated_data["value"])
            else:
                undone = decisions.undo(issue, by=request.user)
                message = f"Undid {len(undone)} change(s)." if undone else "Nothing to undo."
        except decisions.TriageError as error:
            raise APIConflict(str(error), code="triage_refused") from None
        decision = TriageDecision.objects.filter(issue=issue, paper=paper).first()
        return Response(
            {
                "action": action,
                "arxiv_id": paper.arxiv_id,
                "state": decision.state if decision else "new",
                "message": message,
            }
        )
