"""The triage pages: an issue's queue, its shortlist, and the actions.

Served under /triage/ (triage/urls.py) behind ``admin.site.admin_view`` (staff
login, in the admin's look); the views check the curator role again through
triage/decisions.py, which refuses everyone else. Actions answer JSON to the page's script and redirect
back (with a message) for plain form posts, so the queue works without
JavaScript.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from curation.pagination import estimate_count
from curation.roles import is_curator, is_editor
from issues.models import Issue, Pick
from papers.models import Paper

from . import decisions
from .models import Candidate, SeenPaper, TriageDecision, TriageNote, Vote
from .watchlists import Watchlist

PAGE_SIZE = 50
AUTHORS_SHOWN = 3
STATES = [
    ("", "new + shortlisted"),
    ("new", "new"),
    ("shortlisted", "shortlisted"),
    ("rejected", "rejected here"),
    ("picked", "picked here"),
]


class QueueFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=500)
    category = forms.CharField(required=False, max_length=32, label="Any category")
    primary = forms.CharField(required=False, max_length=32, label="Primary category")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    code = forms.BooleanField(required=False, label="Has code")
    author = forms.CharField(required=False, max_length=200)
    watch = forms.BooleanField(required=False, label="Watchlist hits")
    state = forms.ChoiceField(required=False, choices=STATES)
    mine = forms.BooleanField(required=False, label="Shortlisted by me")
    min_votes = forms.IntegerField(required=False, label="Votes ≥", min_value=-100, max_value=100)
    unseen = forms.BooleanField(required=False, label="Unseen by me")
    since = forms.BooleanField(required=False, label="New since my last session")
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000)


def _require_curator(request):
    if not is_curator(request.user):
        raise PermissionDenied("Only curators and editors can triage.")


# Up to this many matching papers (the planner's estimate), the queue collects them
# through the indexes first and sorts them by score; beyond it, matches are dense
# and walking down the score index finds a page of them sooner.
FEW_MATCHES = 20_000


def queue_page(qs, offset, limit, *, estimated=None):
    """``limit`` papers of the queue from ``offset``: scored ones by score, then the unscored.

    The scored part is an inner join ordered by the score index, so PostgreSQL
    never sorts every candidate; when the filters leave few papers
    (``estimated`` ≤ FEW_MATCHES) their ids are gathered first through the GIN
    and date indexes (the LIMIT keeps that subquery separate), which spares
    walking the score index past thousands of papers that do not match.
    """
    scored = qs.filter(score__isnull=False)
    if estimated is not None and estimated <= FEW_MATCHES and connection.vendor == "postgresql":
        scored = Paper.objects.filter(pk__in=scored.order_by().values("pk")[:FEW_MATCHES])
    ordered = scored.select_related("score").order_by(F("score__score").desc(), "-submitted_at", "-pk")
    papers = list(ordered[offset : offset + limit])
    if len(papers) < limit:
        # Where the scored papers end: known from this page, or counted (only on pages past them).
        scored_total = offset + len(papers) if papers else scored.count()
        start = max(0, offset + len(papers) - scored_total)
        # select_related caches "no score", so the rows do not ask again one by one.
        unscored = qs.filter(score__isnull=True).select_related("score").order_by("-submitted_at", "-pk")
        papers += list(unscored[start : start + limit - len(papers)])
    return papers


def explanation_items(explanation):
    """The stored "why ranked here" as plain rows: (label, signed contribution) up and down, and text."""
    explanation = explanation or {}

    def rows(items):
        out = []
        for item in items or []:
            if isinstance(item, dict):
                label = item.get("label") or item.get("feature") or item.get("term") or item.get("name")
                value = item.get("contribution", item.get("weight", item.get("value")))
            elif isinstance(item, list | tuple) and len(item) >= 2:
                label, value = item[0], item[1]
            else:
                label, value = item, None
            out.append({"label": str(label), "value": value})
        return out

    up = rows(explanation.get("up")) + rows(explanation.get("terms_up"))
    down = rows(explanation.get("down")) + rows(explanation.get("terms_down"))
    signals = rows(explanation.get("signals"))
    fallback = bool(explanation.get("fallback")) or explanation.get("kind") == "fallback"
    return {
        "up": up,
        "down": down,
        "signals": signals,
        "fallback": fallback,
        "text": explanation.get("text") or explanation.get("note") or "",
        "empty": not (up or down or signals or explanation.get("text")),
    }


def _rows(issue, user, papers, watchlist, seen_before):
    """Everything a queue row shows, for a page of papers, in a fixed number of queries."""
    ids = [p.pk for p in papers]
    decided = {
        d.paper_id: d
        for d in TriageDecision.objects.filter(issue=issue, paper_id__in=ids).select_related("by")
    }
    votes, my_votes = {}, {}
    for v in Vote.objects.filter(issue=issue, paper_id__in=ids).select_related("user"):
        votes.setdefault(v.paper_id, []).append(v)
        if v.user_id == user.pk:
            my_votes[v.paper_id] = v.value
    notes = {}
    for n in TriageNote.objects.filter(issue=issue, paper_id__in=ids).select_related("user"):
        notes.setdefault(n.paper_id, []).append(n)
    picked = set(Pick.objects.filter(paper_id__in=ids).values_list("paper_id", flat=True))
    rows = []
    for paper in papers:
        authors = [a for a in (paper.authors_text or "").split(", ") if a]
        decision = decided.get(paper.pk)
        score = getattr(paper, "score", None) if _has_score(paper) else None
        paper_votes = votes.get(paper.pk, [])
        rows.append(
            {
                "paper": paper,
                "state": "picked" if paper.pk in picked else (decision.state if decision else "new"),
                "decision": decision,
                "authors_shown": authors[:AUTHORS_SHOWN],
                "authors_more": authors[AUTHORS_SHOWN:],
                "authors": authors,
                "other_categories": [c for c in paper.categories or [] if c != paper.primary_category],
                "score": score,
                "why": explanation_items(score.explanation if score else None),
                "hits": watchlist.paper_hits(paper),
                "votes": paper_votes,
                "vote_total": sum(v.value for v in paper_votes),
                "my_vote": my_votes.get(paper.pk, 0),
                "notes": notes.get(paper.pk, []),
                "seen": paper.pk in seen_before,
            }
        )
    return rows


def _has_score(paper):
    try:
        return paper.score is not None
    except Paper.score.RelatedObjectDoesNotExist:
        return False


def queue(request, issue_id):
    """The issue's triage queue: filters, search, 50 rows by stored score."""
    _require_curator(request)
    issue = get_object_or_404(Issue, pk=issue_id)
    user = request.user
    form = QueueFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    since = decisions.visit_queue(issue, by=user)
    watchlist = Watchlist.of(user)
    qs = Candidate.objects.queue(issue, user, data, watchlist=watchlist, since=since)
    page = data.get("page") or 1
    offset = (page - 1) * PAGE_SIZE
    # One row more than shown tells whether there is a next page, without counting.
    # The planner's estimate (one EXPLAIN, never a COUNT) picks the fetch plan and the total shown.
    estimated = estimate_count(qs, exact_below=0)
    papers = queue_page(qs, offset, PAGE_SIZE + 1, estimated=estimated)
    has_next = len(papers) > PAGE_SIZE
    papers = papers[:PAGE_SIZE]
    ids = [p.pk for p in papers]
    seen_before = set(
        SeenPaper.objects.filter(user=user, paper_id__in=ids).values_list("paper_id", flat=True)
    )
    rows = _rows(issue, user, papers, watchlist, seen_before)
    decisions.mark_seen(ids, by=user)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        **_admin_context(request, issue, "Triage"),
        "form": form,
        "rows": rows,
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "first_number": offset + 1,
        "query_string": params.urlencode(),
        # Counting a big queue exactly costs a full scan: a single page counts itself.
        "total": len(rows) if page == 1 and not has_next else estimated,
        "total_is_estimate": page > 1 or has_next,
        "since": since,
        "action_url": reverse("triage:action", args=[issue.pk]),
        "shortlist_url": reverse("triage:shortlist", args=[issue.pk]),
        "is_editor": is_editor(user),
        "bulk_actions": [("shortlist", "Shortlist"), ("reject", "Reject"), ("reset", "Reset to new")],
    }
    return TemplateResponse(request, "triage/queue.html", context)


def shortlist_page(request, issue_id):
    """The issue's shortlisted papers with their votes and notes, most votes first."""
    _require_curator(request)
    issue = get_object_or_404(Issue, pk=issue_id)
    user = request.user
    watchlist = Watchlist.of(user)
    totals = (
        Vote.objects.filter(issue=issue, paper=OuterRef("pk"))
        .values("paper")
        .annotate(t=Sum("value"))
        .values("t")
    )
    papers = list(
        Paper.objects.filter(
            Exists(TriageDecision.objects.filter(issue=issue, paper=OuterRef("pk"), state="shortlisted"))
        )
        .annotate(vote_total=Coalesce(Subquery(totals, output_field=IntegerField()), Value(0)))
        .select_related("score")
        .order_by("-vote_total", F("score__score").desc(nulls_last=True), "pk")
    )
    rows = _rows(issue, user, papers, watchlist, set())
    context = {
        **_admin_context(request, issue, "Shortlist"),
        "rows": rows,
        "action_url": reverse("triage:action", args=[issue.pk]),
        "queue_url": reverse("triage:queue", args=[issue.pk]),
        "is_editor": is_editor(user),
    }
    return TemplateResponse(request, "triage/shortlist.html", context)


def _admin_context(request, issue, title):
    return {
        **admin.site.each_context(request),
        "title": f"{title}: {issue}",
        "issue": issue,
        "opts": Issue._meta,
        "queue_url": reverse("triage:queue", args=[issue.pk]),
        "change_url": reverse("admin:issues_issue_change", args=[issue.pk]),
    }


SINGLE_ACTIONS = {"shortlist", "reject", "reset", "vote", "vote_down", "note", "promote"}
BULK_ACTIONS = {
    "shortlist": decisions.shortlist_many,
    "reject": decisions.reject_many,
    "reset": decisions.reset_many,
}


def act(request, issue_id):
    """POST one triage action; JSON for the script, a redirect with a message for plain forms."""
    if request.method != "POST":
        return JsonResponse({"ok": False, "error": "POST only."}, status=405)
    _require_curator(request)
    issue = get_object_or_404(Issue, pk=issue_id)
    wants_json = "application/json" in request.headers.get("Accept", "")
    action = request.POST.get("action", "")
    try:
        payload = _perform(issue, request.user, action, request.POST)
    except decisions.TriageError as error:
        return _answer(request, wants_json, {"ok": False, "error": str(error)}, status=400)
    except PermissionDenied as error:
        return _answer(request, wants_json, {"ok": False, "error": str(error)}, status=403)
    except (ValueError, Paper.DoesNotExist):
        return _answer(request, wants_json, {"ok": False, "error": "Pick a paper of this queue."}, status=400)
    return _answer(request, wants_json, {"ok": True, **payload})


def _perform(issue, user, action, post):
    papers = [int(p) for p in post.getlist("papers") if p.strip()]
    single = post.get("paper", "").strip()
    if action == "undo":
        events = decisions.undo(issue, by=user)
        changed = [e.paper_id for e in events]
        return {
            "message": f"Undid {events[0].action} on {len(events)} paper(s)."
            if events
            else "Nothing to undo.",
            "papers": _states(issue, user, changed),
        }
    if single and not papers and action in SINGLE_ACTIONS:
        paper = Paper.objects.get(pk=int(single))
        if action == "vote":
            decisions.vote(paper, issue, by=user, value=post.get("value", "1"))
        elif action == "vote_down":
            decisions.vote(paper, issue, by=user, value=-1)
        elif action == "note":
            decisions.add_note(paper, issue, by=user, text=post.get("text", ""))
        elif action == "promote":
            pick = decisions.promote_to_pick(paper, issue, by=user)
            return {
                "message": f"Promoted to pick #{pick.position}.",
                "pick_url": reverse("admin:issues_pick_change", args=[pick.pk]),
                "papers": _states(issue, user, [paper.pk]),
            }
        else:
            getattr(decisions, action)(paper, issue, by=user, **_note_kw(action, post))
        label = {"vote_down": "Vote", "note": "Note"}.get(action, action.capitalize())
        return {"message": f"{label}: {paper.arxiv_id}.", "papers": _states(issue, user, [paper.pk])}
    if action in BULK_ACTIONS and (papers or single):
        result = BULK_ACTIONS[action](papers or [int(single)], issue, by=user, **_note_kw(action, post))
        message = f"{action.capitalize()}: {len(result.changed)} paper(s)."
        if result.skipped:
            message += f" {len(result.skipped)} left alone ({next(iter(result.skipped.values()))})"
        return {"message": message, "papers": _states(issue, user, result.changed)}
    raise decisions.TriageError("Choose an action and at least one paper.")


def _note_kw(action, post):
    return {"note": post.get("note", "").strip()} if action in ("shortlist", "reject") else {}


def _states(issue, user, ids):
    """The fresh state of the papers an action touched, for the script to redraw their rows."""
    ids = list(ids)[:1000]
    decided = dict(
        TriageDecision.objects.filter(issue=issue, paper_id__in=ids).values_list("paper_id", "state")
    )
    picked = set(Pick.objects.filter(paper_id__in=ids).values_list("paper_id", flat=True))
    totals, mine = {}, {}
    for paper_id, voter, value in Vote.objects.filter(issue=issue, paper_id__in=ids).values_list(
        "paper_id", "user_id", "value"
    ):
        totals[paper_id] = totals.get(paper_id, 0) + value
        if voter == user.pk:
            mine[paper_id] = value
    notes = {}
    for n in TriageNote.objects.filter(issue=issue, paper_id__in=ids).select_related("user"):
        notes.setdefault(n.paper_id, []).append({"by": str(n.user), "text": n.text})
    return [
        {
            "id": pid,
            "state": "picked" if pid in picked else decided.get(pid, "new"),
            "votes": totals.get(pid, 0),
            "my_vote": mine.get(pid, 0),
            "notes": notes.get(pid, []),
        }
        for pid in ids
    ]


def _answer(request, wants_json, payload, status=200):
    if wants_json:
        return JsonResponse(payload, status=status)
    if payload.get("ok"):
        messages.success(request, payload.get("message", "Done."))
    else:
        messages.error(request, payload.get("error", "That did not work."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("triage:queue", args=[request.resolver_match.kwargs["issue_id"]])
    return redirect(target)
