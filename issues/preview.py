"""Preview pages: a draft shown exactly as the public page will show it.

Two ways in: a signed, expiring link an editor sends to an outsider (no
login; the signature is the permission), and the admin's live preview of
unsaved form data. Both render the public issue template with a "draft"
banner, are never cached and are never indexed.

A link carries the issue's ``preview_generation``; an editor who sent one
to the wrong person revokes every link of the issue sent so far by bumping
it (``revoke_preview_links``), and links made afterwards work again.
"""

import logging

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control

from curation.roles import require_editor

from .issue_page import page_context
from .models import Issue

log = logging.getLogger(__name__)

SALT = "issues.preview"
# Seven days unless the deployment says otherwise.
MAX_AGE = getattr(settings, "PREVIEW_LINK_MAX_AGE", 7 * 24 * 3600)
TEMPLATE = "admin/issues/preview.html"


def make_preview_token(issue, *, by):
    """A signed token that shows ``issue`` to whoever holds it until it expires or is revoked. Editors only."""
    require_editor(by, "share a preview of an issue")
    # From the row, not the instance in hand: a revocation since it was loaded must hold.
    generation = Issue.objects.filter(pk=issue.pk).values_list("preview_generation", flat=True).get()
    return signing.dumps({"issue": issue.pk, "generation": generation}, salt=SALT, compress=True)


def revoke_preview_links(issue, *, by):
    """Every preview link of ``issue`` made so far stops working. Editors only; returns the new generation."""
    require_editor(by, "revoke the preview links of an issue")
    # An update, not save(): the issue's text and lock_version stay as they are for open edit forms.
    Issue.objects.filter(pk=issue.pk).update(preview_generation=F("preview_generation") + 1)
    generation = Issue.objects.filter(pk=issue.pk).values_list("preview_generation", flat=True).get()
    log.info("preview links of issue %s revoked by %s", issue.pk, by.get_username())
    return generation


def preview_url(issue, *, by, request=None):
    path = reverse("issues:issue_preview", args=[make_preview_token(issue, by=by)])
    return request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path


def page_queryset():
    """Issues with everything the issue page shows (like for_public_page(), drafts included)."""
    return Issue.objects.with_page_contents()


def never_cached(response):
    patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def render_preview(request, issue, *, status=200, note=""):
    context = {"issue": issue, "is_preview": True, "preview_note": note, **page_context(issue)}
    html = render_to_string(TEMPLATE, context, request)
    return never_cached(HttpResponse(html, status=status))


def _refusal(request, status, message):
    html = render_to_string("admin/issues/preview_refused.html", {"message": message}, request)
    return never_cached(HttpResponse(html, status=status))


def preview_issue(request, token):
    """The page behind a preview link: 404 when tampered with, 410 when expired."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired:
        return _refusal(request, 410, "This preview link has expired. Ask the editor for a new one.")
    except signing.BadSignature:
        return _refusal(request, 404, "This preview link is not valid.")
    issue = page_queryset().filter(pk=payload.get("issue")).first()
    if issue is None:
        return _refusal(request, 404, "This issue no longer exists.")
    # Links made before revocation existed carry no generation: they belong to the first one.
    if payload.get("generation", 0) != issue.preview_generation:
        return _refusal(
            request, 410, "This preview link was revoked by an editor. Ask the editor for a new one."
        )
    return render_preview(request, issue)
