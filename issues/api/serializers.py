"""Serializers of the public API and of the curation endpoints: one per shape, fields listed once.

Public shapes never show notes, votes, triage state, lock versions or curator
names; the issue's byline is its public credit. Every link is absolute and
built from SITE_URL (curation/api_fields.py). The views' querysets load what
these read (select_related / prefetch_related), so a page costs the same
number of queries whatever its length.
"""

from rest_framework import serializers

from curation.api_fields import SiteURLField, UTCDateTimeField, absolute_url, public_url
from curation.api_input import StrictCharField, StrictIntegerField, StrictSerializer, StrictURLField
from papers.models import Author, Paper

from ..models import Figure, Issue, Pick

# Papers and authors ----------------------------------------------------------------


class AuthorSerializer(serializers.ModelSerializer):
    url = SiteURLField("issues:author", "slug", help_text="The author's public page.")
    api_url = SiteURLField("api:author-detail", "slug", help_text="This author in the API.")

    class Meta:
        model = Author
        fields = ["slug", "name", "url", "api_url"]


class PaperSerializer(serializers.ModelSerializer):
    # Prefetched by the views, in arXiv's order (issues/api/views.py: ordered_authors).
    authors = AuthorSerializer(source="authors_in_order", many=True, help_text="In arXiv's order.")
    categories = serializers.ListField(
        child=serializers.CharField(), help_text="arXiv categories, the primary one first."
    )
    submitted_at = UTCDateTimeField(help_text="When version 1 was submitted to arXiv.")
    updated_at = UTCDateTimeField(help_text="When arXiv last updated the paper.")
    # Strings, not URLField: an empty link is "" (not a valid URI to the schema).
    code_url = serializers.CharField(help_text="The code's URL, or empty.")
    project_url = serializers.CharField(help_text="A project page or demo, or empty.")
    has_code = serializers.BooleanField(help_text="Whether a code link is known.")
    url = SiteURLField("issues:paper", "arxiv_id", help_text="The paper's public page on this site.")
    api_url = SiteURLField("api:paper-detail", "arxiv_id", help_text="This paper in the API.")
    abs_url = serializers.URLField(help_text="The abstract on arxiv.org.")
    pdf_url = serializers.URLField(help_text="The PDF on arxiv.org.")

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


class PickLinkSerializer(serializers.ModelSerializer):
    """Where a paper was picked: the issue and the position in it."""

    issue = serializers.CharField(source="issue.slug", help_text="The issue's slug.")
    issue_title = serializers.CharField(source="issue.title")
    url = serializers.SerializerMethodField(help_text="The pick on the issue's public page.")

    class Meta:
        model = Pick
        fields = ["id", "issue", "issue_title", "position", "url"]

    def get_url(self, pick) -> str:
        return pick_url(pick)


class PaperDetailSerializer(PaperSerializer):
    picks = PickLinkSerializer(source="published_picks", many=True, help_text="Newest issue first.")

    class Meta(PaperSerializer.Meta):
        fields = [*PaperSerializer.Meta.fields, "picks"]


class AuthorPaperSerializer(serializers.ModelSerializer):
    url = SiteURLField("issues:paper", "arxiv_id", help_text="The paper's public page on this site.")
    api_url = SiteURLField("api:paper-detail", "arxiv_id", help_text="This paper in the API.")

    class Meta:
        model = Paper
        fields = ["arxiv_id", "title", "url", "api_url"]


class AuthorPickSerializer(PickLinkSerializer):
    paper = AuthorPaperSerializer()

    class Meta(PickLinkSerializer.Meta):
        fields = [*PickLinkSerializer.Meta.fields, "paper"]


class AuthorDetailSerializer(AuthorSerializer):
    picks = AuthorPickSerializer(source="published_picks", many=True, help_text="Newest issue first.")

    class Meta(AuthorSerializer.Meta):
        fields = [*AuthorSerializer.Meta.fields, "picks"]


# Issues and picks ------------------------------------------------------------------


def pick_url(pick):
    return f"{public_url('issues:issue', 'slug', pick.issue.slug)}#pick-{pick.position}"


class FigureSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Absolute URL of the image.")
    alt = serializers.CharField(source="alt_text", help_text="What the figure shows.")
    credit_url = serializers.CharField(help_text="Where the credit points, or empty.")

    class Meta:
        model = Figure
        fields = ["url", "width", "height", "alt", "caption", "credit", "credit_url"]

    def get_url(self, figure) -> str:
        return absolute_url(figure.image.url) if figure.image else ""


class IssueRefSerializer(serializers.ModelSerializer):
    """The issue a pick belongs to."""

    url = SiteURLField("issues:issue", "slug", help_text="The issue's public page.")
    published_at = UTCDateTimeField()

    class Meta:
        model = Issue
        fields = ["slug", "title", "url", "published_at"]


class PickSerializer(serializers.ModelSerializer):
    """A published pick: the paper, our commentary (Markdown source and sanitized HTML), links, figures."""

    title = serializers.CharField(help_text="The paper's title as it was when picked.")
    paper = PaperSerializer()
    why_html = serializers.CharField(help_text="“Why it matters”, sanitized HTML.")
    key_insights_html = serializers.CharField(help_text="Key insights, sanitized HTML.")
    code_url = serializers.SerializerMethodField(
        help_text="The code: the pick's link, else the paper's (or empty)."
    )
    demo_url = serializers.CharField(help_text="A demo or project page, or empty.")
    # Prefetched by the views, in order (issues/api/views.py: ordered_figures).
    figures = FigureSerializer(source="figures_in_order", many=True)
    url = serializers.SerializerMethodField(help_text="The pick on the issue's public page.")
    updated_at = UTCDateTimeField()

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

    def get_code_url(self, pick) -> str:
        return pick.code_url or pick.paper.code_url

    def get_url(self, pick) -> str:
        return pick_url(pick)


class PickWithIssueSerializer(PickSerializer):
    """A published pick with the issue it belongs to, in the listing of every pick."""

    issue = IssueRefSerializer()

    class Meta(PickSerializer.Meta):
        fields = ["id", "issue", *PickSerializer.Meta.fields[1:]]


class ReferenceSerializer(serializers.Serializer):
    """One numbered reference of the issue: a work its commentary cites."""

    # Stored JSON: a key an older entry lacks reads as empty (the defaults) rather than fail.
    number = serializers.IntegerField(help_text="The number shown in the text, from 1.")
    key = serializers.CharField(default="", help_text="The footnote key in the Markdown source ([^key]).")
    text = serializers.CharField(default="", help_text="The citation.")
    url = serializers.CharField(default="", help_text="Where it points, or empty.")
    arxiv_id = serializers.CharField(default="", help_text="The cited arXiv paper, or empty.")
    backrefs = serializers.ListField(
        child=serializers.CharField(),
        default=list,
        help_text="Ids of the footnote markers citing it in the HTML (`fnref-N-k`); "
        "the reference itself is `ref-N`.",
    )


class IssueSerializer(serializers.ModelSerializer):
    published_at = UTCDateTimeField(help_text="First publication.")
    updated_at = UTCDateTimeField(help_text="Last change readers can see (a correction).")
    pick_count = serializers.IntegerField(help_text="How many papers the issue picks.")
    url = SiteURLField("issues:issue", "slug", help_text="The issue's public page.")
    api_url = SiteURLField("api:issue-detail", "slug", help_text="This issue in the API.")

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


class IssueDetailSerializer(IssueSerializer):
    # The picks are prefetched: counting them costs no query.
    pick_count = serializers.IntegerField(source="picks.count", help_text="How many papers the issue picks.")
    intro_html = serializers.CharField(help_text="Sanitized HTML of `intro`.")
    outro_html = serializers.CharField(help_text="Sanitized HTML of `outro`.")
    picks = PickSerializer(many=True, help_text="In the issue's order.")
    references = ReferenceSerializer(many=True, help_text="Numbered across the whole issue.")

    class Meta(IssueSerializer.Meta):
        fields = [
            *IssueSerializer.Meta.fields,
            "intro",
            "intro_html",
            "outro",
            "outro_html",
            "picks",
            "references",
        ]


# Curation --------------------------------------------------------------------------


class StaffIssueSerializer(IssueSerializer):
    """An issue as curators see it: any status, with what the edit and transition calls need."""

    published_at = UTCDateTimeField(allow_null=True, help_text="First publication; null before it.")
    publish_at = UTCDateTimeField(allow_null=True, help_text="When a scheduled issue goes out.")

    class Meta(IssueSerializer.Meta):
        fields = [
            *(name for name in IssueSerializer.Meta.fields if name != "pick_count"),
            "status",
            "publish_at",
            "publish_error",
            "lock_version",
        ]


class StaffPickSerializer(PickSerializer):
    """A pick of any issue (drafts too), with the lock_version an edit must send back."""

    class Meta(PickSerializer.Meta):
        fields = [*PickSerializer.Meta.fields, "lock_version"]


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
