"""Serializers of issues, picks and the triage queue. Each lists its fields: nothing internal leaks.

Public serializers never show notes, votes, triage state, lock versions or
curator names; the issue's byline is its public credit.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from papers.api import PaperSerializer, paper_json

from ..models import Figure, Issue, Pick
from .reads import UTCDateTimeField, absolute_url, public_url, utc_iso
from .strict import (
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    StrictURLField,
)


class FigureSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Absolute URL of the image.")
    credit_url = serializers.CharField(read_only=True, help_text="Where the credit points, or empty.")
    alt = serializers.CharField(source="alt_text", read_only=True, help_text="What the figure shows.")

    class Meta:
        model = Figure
        fields = ["url", "width", "height", "alt", "caption", "credit", "credit_url"]
        read_only_fields = fields

    def get_url(self, figure) -> str:
        return absolute_url(figure.image.url) if figure.image else ""

    def to_representation(self, figure):
        return figure_json(figure)


def figure_json(figure):
    return {
        "url": absolute_url(figure.image.url) if figure.image else "",
        "width": figure.width,
        "height": figure.height,
        "alt": figure.alt_text,
        "caption": figure.caption,
        "credit": figure.credit,
        "credit_url": figure.credit_url,
    }


class IssueRefSerializer(serializers.ModelSerializer):
    """The issue a pick belongs to, in a pick listing."""

    url = serializers.SerializerMethodField(help_text="The issue's public page.")
    published_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Issue
        fields = ["slug", "title", "url", "published_at"]
        read_only_fields = fields

    def get_url(self, issue) -> str:
        return public_url("issues:issue", "slug", issue.slug)

    def to_representation(self, issue):
        return issue_ref_json(issue)


def issue_ref_json(issue):
    return {
        "slug": issue.slug,
        "title": issue.title,
        "url": public_url("issues:issue", "slug", issue.slug),
        "published_at": utc_iso(issue.published_at),
    }


class PickSerializer(serializers.ModelSerializer):
    """A published pick: the paper, our commentary (Markdown source and sanitized HTML), links, figures."""

    title = serializers.CharField(read_only=True, help_text="The paper's title as it was when picked.")
    paper = PaperSerializer(read_only=True)
    why_html = serializers.CharField(read_only=True, help_text="“Why it matters”, sanitized HTML.")
    key_insights_html = serializers.CharField(read_only=True, help_text="Key insights, sanitized HTML.")
    code_url = serializers.SerializerMethodField(
        help_text="The code: the pick's link, else the paper's (or empty)."
    )
    demo_url = serializers.CharField(read_only=True, help_text="A demo or project page, or empty.")
    figures = FigureSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField(help_text="The pick on the issue's public page.")
    updated_at = UTCDateTimeField(read_only=True)

    class Meta:
        model = Pick
        fields = [
            "id",
            "position",
            "title",
            "paper",
            "paper_version",
            "why",
            "why_html",
            "key_insights",
            "key_insights_html",
            "code_url",
            "demo_url",
            "figures",
            "url",
            "updated_at",
        ]
        read_only_fields = fields

    def get_code_url(self, pick) -> str:
        return pick.code_url or pick.paper.code_url

    def get_url(self, pick) -> str:
        return f"{public_url('issues:issue', 'slug', pick.issue.slug)}#pick-{pick.position}"

    def to_representation(self, pick):
        # Hand-written for speed (a page holds up to 100 picks with papers, authors and
        # figures); the same keys as Meta.fields, which the tests and the fuzzer check.
        return {
            "id": pick.pk,
            "position": pick.position,
            "title": pick.title,
            "paper": paper_json(pick.paper),
            "paper_version": pick.paper_version,
            "why": pick.why,
            "why_html": pick.why_html,
            "key_insights": pick.key_insights,
            "key_insights_html": pick.key_insights_html,
            "code_url": self.get_code_url(pick),
            "demo_url": pick.demo_url,
            "figures": [figure_json(f) for f in ordered_figures(pick)],
            "url": self.get_url(pick),
            "updated_at": utc_iso(pick.updated_at),
        }


def ordered_figures(pick):
    prefetched = getattr(pick, "ordered_figures", None)
    if prefetched is not None:
        return prefetched
    return list(pick.figures.order_by("position", "pk"))


class PickListSerializer(PickSerializer):
    issue = IssueRefSerializer(read_only=True)

    class Meta(PickSerializer.Meta):
        fields = ["id", "issue"] + PickSerializer.Meta.fields[1:]
        read_only_fields = fields

    def to_representation(self, pick):
        data = super().to_representation(pick)
        return {"id": data.pop("id"), "issue": issue_ref_json(pick.issue), **data}


class ReferenceSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The number shown in the text, from 1.")
    key = serializers.CharField(help_text="The footnote key in the Markdown source ([^key]).")
    text = serializers.CharField(help_text="The citation.")
    url = serializers.CharField(allow_blank=True, help_text="Where it points, or empty.")
    arxiv_id = serializers.CharField(allow_blank=True, help_text="The cited arXiv paper, or empty.")
    backrefs = serializers.ListField(
        child=serializers.CharField(),
        help_text="Ids of the footnote markers citing it in the HTML (`fnref-N-k`); "
        "the reference itself is `ref-N`.",
    )

    def to_representation(self, instance):
        # Stored JSON: tolerate an older entry without some key rather than fail the whole issue.
        return {
            "number": instance.get("number"),
            "key": instance.get("key", ""),
            "text": instance.get("text", ""),
            "url": instance.get("url", "") or "",
            "arxiv_id": instance.get("arxiv_id", "") or "",
            "backrefs": list(instance.get("backrefs", [])),
        }


class IssueSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The issue's public page.")
    api_url = serializers.SerializerMethodField(help_text="This issue in the API.")
    published_at = UTCDateTimeField(read_only=True, help_text="First publication.")
    updated_at = UTCDateTimeField(read_only=True, help_text="Last change readers can see (a correction).")
    pick_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Issue
        fields = [
            "slug",
            "title",
            "subtitle",
            "byline",
            "period_start",
            "period_end",
            "published_at",
            "updated_at",
            "pick_count",
            "url",
            "api_url",
        ]
        read_only_fields = fields

    def get_url(self, issue) -> str:
        return public_url("issues:issue", "slug", issue.slug)

    def get_api_url(self, issue) -> str:
        return public_url("api:issue-detail", "slug", issue.slug)

    def to_representation(self, issue):
        return {
            "slug": issue.slug,
            "title": issue.title,
            "subtitle": issue.subtitle,
            "byline": issue.byline,
            "period_start": issue.period_start.isoformat(),
            "period_end": issue.period_end.isoformat(),
            "published_at": utc_iso(issue.published_at),
            "updated_at": utc_iso(issue.updated_at),
            "pick_count": issue.pick_count,
            "url": self.get_url(issue),
            "api_url": self.get_api_url(issue),
        }


class IssueDetailSerializer(IssueSerializer):
    intro_html = serializers.CharField(read_only=True, help_text="Sanitized HTML of `intro`.")
    outro_html = serializers.CharField(read_only=True, help_text="Sanitized HTML of `outro`.")
    picks = PickSerializer(many=True, read_only=True, help_text="In the issue's order.")
    references = serializers.SerializerMethodField(help_text="Numbered across the whole issue.")

    class Meta(IssueSerializer.Meta):
        fields = IssueSerializer.Meta.fields + [
            "intro",
            "intro_html",
            "outro",
            "outro_html",
            "picks",
            "references",
        ]
        read_only_fields = fields

    @extend_schema_field(ReferenceSerializer(many=True))
    def get_references(self, issue):
        return ReferenceSerializer(issue.references or [], many=True).data

    def to_representation(self, issue):
        data = super().to_representation(issue)
        pick = PickSerializer()
        data.update(
            intro=issue.intro,
            intro_html=issue.intro_html,
            outro=issue.outro,
            outro_html=issue.outro_html,
            picks=[
                pick.to_representation(p) for p in getattr(issue, "ordered_picks", None) or issue.picks.all()
            ],
            references=self.get_references(issue),
        )
        return data


# Curation ------------------------------------------------------------------------


class StaffIssueSerializer(IssueSerializer):
    """An issue as curators see it: any status, with what the edit and transition calls need."""

    status = serializers.CharField(read_only=True)
    publish_at = UTCDateTimeField(read_only=True, allow_null=True)
    publish_error = serializers.CharField(read_only=True)
    lock_version = serializers.IntegerField(read_only=True)

    class Meta(IssueSerializer.Meta):
        fields = [f for f in IssueSerializer.Meta.fields if f != "pick_count"] + [
            "status",
            "publish_at",
            "publish_error",
            "lock_version",
        ]
        read_only_fields = fields

    def to_representation(self, issue):
        # Few and rare: DRF's generic path, not the public lists' hand-written one.
        return serializers.ModelSerializer.to_representation(self, issue)


class StaffPickSerializer(PickSerializer):
    """A pick of any issue (drafts too), with the lock_version an edit must send back."""

    lock_version = serializers.IntegerField(read_only=True)

    class Meta(PickSerializer.Meta):
        fields = PickSerializer.Meta.fields + ["lock_version"]
        read_only_fields = fields

    def to_representation(self, pick):
        return {**super().to_representation(pick), "lock_version": pick.lock_version}


class PickFieldsSerializer(StrictSerializer):
    why = StrictCharField(required=False, allow_blank=True, max_length=20000, help_text="Markdown.")
    key_insights = StrictCharField(required=False, allow_blank=True, max_length=20000, help_text="Markdown.")
    code_url = StrictURLField(required=False, allow_blank=True, max_length=500)
    demo_url = StrictURLField(required=False, allow_blank=True, max_length=500)


class PickCreateSerializer(PickFieldsSerializer):
    arxiv_id = StrictCharField(
        max_length=200, help_text="The paper, in any id form; it must already be in the database."
    )


class PickUpdateSerializer(PickFieldsSerializer):
    lock_version = StrictIntegerField(
        min_value=0, help_text="The pick's lock_version you read; a stale one gets 409."
    )


class ReorderSerializer(StrictSerializer):
    pick_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1),
        min_length=1,
        max_length=200,
        help_text="Every pick id of the issue, in the new order.",
    )


class ScheduleSerializer(StrictSerializer):
    publish_at = serializers.DateTimeField(help_text="When the issue goes out (ISO 8601, with a zone).")
