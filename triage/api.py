"""The triage queue in the JSON API (curators): an issue's candidates and one action per verb.

Thin callers of triage/decisions.py, which checks the role again and records
the event; a TriageError reaches clients as a 409 through the API's one
exception handler (registered below).
"""

from django import forms
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django_filters import rest_framework as filters
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from curation.api_errors import APIConflict, api_error
from curation.api_fields import UTCDateTimeField
from curation.api_input import KnownQueryParametersMixin, StrictCharField, StrictChoiceField, StrictSerializer
from curation.pagination import CursorPage, Ordering
from issues.api.views import (
    ARXIV_ID_PARAMETER,
    STAFF_SLUG_PARAMETER,
    IssueStaffMixin,
    ordered_authors,
    paper_in_database,
)

from . import decisions
from .models import Candidate, TriageDecision, Vote
from .views import QueueFilterForm
from .watchlists import Watchlist


@api_error(decisions.TriageError)
def triage_refused(error):
    return APIConflict(str(error), code="triage_refused")


STATES = ["new", "shortlisted", "rejected"]
TRUE_FALSE = {"true", "false"}


class CandidateSerializer(serializers.ModelSerializer):
    """A paper in an issue's triage queue (staff only)."""

    authors = serializers.SerializerMethodField(help_text="Their names, in arXiv's order.")
    submitted_at = UTCDateTimeField()
    score = serializers.FloatField(
        source="score.score", allow_null=True, help_text="The ranker's score; null before scoring."
    )
    explanation = serializers.SerializerMethodField(
        help_text="Why the ranker scored it so; {} before scoring."
    )
    state = serializers.ChoiceField(
        source="queue_state", choices=STATES, help_text="Its state in this issue's queue."
    )
    votes = serializers.IntegerField(source="queue_votes", help_text="Sum of curators' votes.")
    code_url = serializers.CharField(help_text="A code link, or empty.")
    abs_url = serializers.URLField(help_text="The abstract on arxiv.org.")
    pdf_url = serializers.URLField(help_text="The PDF on arxiv.org.")

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

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_explanation(self, paper):
        # No PaperScore row yet: select_related found none, and the attribute raises.
        score = getattr(paper, "score", None)
        return (score.explanation if score else None) or {}

    def get_authors(self, paper) -> list[str]:
        # Prefetched in arXiv's order (issues/api/views.py: ordered_authors).
        return [author.name for author in paper.authors_in_order]


class CandidateFilterForm(QueueFilterForm):
    """The queue page's filters, minus its page number (cursor pages here) and "new since my
    last session" (recording a session is the queue page's job, not a read's)."""

    page = None
    since = None

    def clean(self):
        # The page's form reads a checkbox (any value is "on") and takes "" for "no filter";
        # an API client sending watch=maybe or min_votes= meant something else: refuse it,
        # as the schema (boolean, integer, date, enum) says.
        for name, field in self.fields.items():
            raw = self.data.get(name)
            if raw is None or isinstance(field, forms.CharField):
                continue
            if isinstance(field, forms.BooleanField) and raw.strip().lower() not in TRUE_FALSE:
                self.add_error(name, "Use true or false.")
            elif raw == "":
                self.add_error(name, "A value is required when the parameter is sent.")
        return super().clean()


class CandidateFilter(filters.FilterSet):
    """The queue's filters: declared once, in the queue page's form; the rules live on
    ``Candidate.objects.queue``, which the page and the API both call."""

    class Meta:
        form = CandidateFilterForm

    def __init__(self, *args, issue, **kwargs):
        super().__init__(*args, **kwargs)
        self.issue = issue

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        user = self.request.user
        watchlist = Watchlist.of(user) if data.get("watch") else None
        return queryset.queue(self.issue, user, data, watchlist=watchlist)


def _queue_parameter(name, field):
    """The OpenAPI parameter of one field of the queue's filter form."""
    label = str(field.label or name)
    if isinstance(field, forms.BooleanField):
        return OpenApiParameter(name, OpenApiTypes.BOOL, description=f"{label}: true to apply.")
    if isinstance(field, forms.DateField):
        return OpenApiParameter(name, OpenApiTypes.DATE, description=f"{label}: YYYY-MM-DD.")
    if isinstance(field, forms.IntegerField):
        return OpenApiParameter(
            name,
            {"type": "integer", "minimum": field.min_value, "maximum": field.max_value},
            description=label,
        )
    if isinstance(field, forms.ChoiceField):
        return OpenApiParameter(
            name,
            OpenApiTypes.STR,
            enum=[value for value, _ in field.choices if value],
            description="Triage state; absent means new + shortlisted.",
        )
    return OpenApiParameter(name, {"type": "string", "maxLength": field.max_length}, description=label)


class NoteSerializer(StrictSerializer):
    note = StrictCharField(
        required=False, allow_blank=True, max_length=5000, help_text="Why, for the others."
    )


class VoteSerializer(StrictSerializer):
    value = StrictChoiceField(choices=[1, -1, 0], help_text="+1, −1, or 0 to withdraw your vote.")


class TriageResultSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["shortlist", "reject", "reset", "vote", "undo"])
    arxiv_id = serializers.CharField()
    state = serializers.ChoiceField(
        choices=STATES, help_text="The paper's state in the queue after the action."
    )
    message = serializers.CharField(allow_blank=True)


def _action(operation_id, summary, description, request=None, examples=()):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        parameters=[STAFF_SLUG_PARAMETER, ARXIV_ID_PARAMETER],
        request=request,
        responses={status.HTTP_200_OK: TriageResultSerializer},
        examples=list(examples),
        tags=["curation"],
    )


@extend_schema_view(
    list=extend_schema(
        operation_id="list_candidates",
        summary="An issue's triage queue (curators)",
        description="Ranked candidates with score, explanation, state and votes, filtered as in the "
        "admin queue. Rejected papers leave every later queue. Unscored papers come last.",
        parameters=[
            STAFF_SLUG_PARAMETER,
            *(_queue_parameter(name, field) for name, field in CandidateFilterForm.base_fields.items()),
        ],
        tags=["curation"],
    )
)
class CandidateViewSet(
    IssueStaffMixin, KnownQueryParametersMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    serializer_class = CandidateSerializer
    pagination_class = CursorPage
    ordering = Ordering(
        {
            "-score": ("-queue_score", "-submitted_at", "-pk"),
            "-submitted": ("-submitted_at", "-pk"),
            "submitted": ("submitted_at", "pk"),
        },
        default="-score",
    )

    def known_query_parameters(self):
        known = super().known_query_parameters()
        return known | set(CandidateFilterForm.base_fields) if self.action == "list" else known

    def get_queryset(self):
        queue = CandidateFilter(
            self.request.query_params,
            queryset=Candidate.objects.all(),
            request=self.request,
            issue=self.issue,
        )
        if not queue.is_valid():
            raise translate_validation(queue.errors)
        decisions_here = TriageDecision.objects.filter(issue=self.issue, paper=OuterRef("pk"))
        votes = (
            Vote.objects.filter(issue=self.issue, paper=OuterRef("pk"))
            .values("paper")
            .annotate(total=Sum("value"))
            .values("total")
        )
        return (
            queue.qs.select_related("score")
            .defer("search_vector", "authors_text", "abstract")
            .prefetch_related(ordered_authors("authors"))
            .annotate(
                # Unscored papers sort after every score (scores are probabilities, ≥ 0).
                queue_score=Coalesce(F("score__score"), Value(-1.0)),
                queue_state=Coalesce(Subquery(decisions_here.values("state")[:1]), Value("new")),
                queue_votes=Coalesce(Subquery(votes, output_field=IntegerField()), Value(0)),
            )
        )

    def _result(self, action, paper, message=""):
        decision = TriageDecision.objects.filter(issue=self.issue, paper=paper).first()
        result = {
            "action": action,
            "arxiv_id": paper.arxiv_id,
            "state": decision.state if decision else "new",
            "message": message,
        }
        return Response(TriageResultSerializer(result).data)

    def _paper(self):
        return paper_in_database(self.kwargs["arxiv_id"])

    @_action(
        "shortlist_candidate",
        "Shortlist a candidate (curators)",
        "With an optional note for the other curators.",
        request=NoteSerializer,
        examples=[OpenApiExample("with a note", value={"note": "Strong baseline."}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def shortlist(self, request, *args, **kwargs):
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        paper = self._paper()
        decisions.shortlist(paper, self.issue, by=request.user, note=body.validated_data.get("note", ""))
        return self._result("shortlist", paper)

    @_action(
        "reject_candidate",
        "Reject a candidate (curators)",
        "It leaves this queue and never returns to a later one. With an optional note.",
        request=NoteSerializer,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        paper = self._paper()
        decisions.reject(paper, self.issue, by=request.user, note=body.validated_data.get("note", ""))
        return self._result("reject", paper)

    @_action("reset_candidate", "Put a candidate back to new (curators)", "No body.")
    @action(detail=True, methods=["post"])
    def reset(self, request, *args, **kwargs):
        paper = self._paper()
        decisions.reset(paper, self.issue, by=request.user)
        return self._result("reset", paper)

    @_action(
        "vote_on_candidate",
        "Vote on a candidate (curators)",
        "+1 or −1; 0 withdraws your vote.",
        request=VoteSerializer,
        examples=[OpenApiExample("for", value={"value": 1}, request_only=True)],
    )
    @action(detail=True, methods=["post"])
    def vote(self, request, *args, **kwargs):
        body = VoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        paper = self._paper()
        decisions.vote(paper, self.issue, by=request.user, value=body.validated_data["value"])
        return self._result("vote", paper)

    @_action(
        "undo_triage",
        "Undo your last triage change in the issue (curators)",
        "Undoes your own last change in the issue (a whole bulk action at once), whichever paper it "
        "touched; the result names the paper of the URL. No body.",
    )
    @action(detail=True, methods=["post"])
    def undo(self, request, *args, **kwargs):
        paper = self._paper()
        undone = decisions.undo(self.issue, by=request.user)
        return self._result(
            "undo", paper, f"Undid {len(undone)} change(s)." if undone else "Nothing to undo."
        )
