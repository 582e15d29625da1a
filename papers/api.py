"""The papers part of the JSON API: what is about arXiv's data — adding papers by arXiv id.

The public reads of papers and authors show where they were picked, so they
live with the issues (issues/api/); their viewset takes ``create`` from
``AddPapersMixin`` here, so ``POST /api/v1/papers/`` stays next to
``GET /api/v1/papers/``.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from curation.api_input import StrictCharField, StrictSerializer
from curation.roles import IsCurator

from . import harvest
from .arxiv_ids import parse_arxiv_id


def resolve_arxiv_id(text):
    """The versionless id in any form the harvester accepts; 404 naming the text otherwise."""
    try:
        return parse_arxiv_id(text).id
    except ValueError as error:
        raise Http404(str(error)) from None


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


class AddPapersResultsSerializer(serializers.Serializer):
    results = AddPaperResultSerializer(many=True, help_text="One per id sent, in order.")


class AddPapersMixin:
    """``create`` for a papers viewset: fetch papers from arXiv by id (curators)."""

    def get_permissions(self):
        if self.action == "create":
            return [IsCurator()]
        return super().get_permissions()

    @extend_schema(
        operation_id="add_papers",
        summary="Add papers by id (curators)",
        description="Fetches each id from arXiv (or updates it) and returns one result per id; "
        "a bad id is reported in its result and does not stop the others.",
        request=AddPapersSerializer,
        responses={status.HTTP_200_OK: AddPapersResultsSerializer},
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
    )
    def create(self, request, *args, **kwargs):
        body = AddPapersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = harvest.add_papers_by_id(body.validated_data["ids"], by=request.user)
        return Response(AddPapersResultsSerializer({"results": results}).data)
