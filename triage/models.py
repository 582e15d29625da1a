"""How we choose: triage decisions and their history, votes, notes, seen marks,
watchlists, and the ranker's models and scores.

A paper with no TriageDecision in an issue is "new" in its queue. Every change
to these rows goes through triage/decisions.py (or triage/ranking.py for the
ranker's own tables), which checks the caller's role and writes the
TriageEvent that undo replays.
"""

from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db import connection, models
from django.db.models import Exists, F, IntegerField, JSONField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from issues.models import Issue, Pick
from papers.models import Paper, PaperQuerySet
from papers.search import filter_by_search


class TriageDecision(models.Model):
    """A paper's triage state in an issue's queue. No row means "new"."""

    class State(models.TextChoices):
        SHORTLISTED = "shortlisted", "shortlisted"
        REJECTED = "rejected", "rejected"

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="triage")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="triage")
    state = models.CharField(max_length=12, choices=State.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "paper"], name="triage_once_per_issue"),
            models.CheckConstraint(
                condition=models.Q(state__in=["shortlisted", "rejected"]), name="triage_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["paper", "state"], name="triage_decision_paper_state")]

    def __str__(self):
        return f"{self.paper.arxiv_id} {self.state} in {self.issue}"


class Vote(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="votes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes")
    value = models.SmallIntegerField(help_text="+1 or −1.")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "paper", "user"], name="vote_once"),
            models.CheckConstraint(condition=models.Q(value__in=[1, -1]), name="vote_value_valid"),
        ]

    def __str__(self):
        return f"{self.value:+d} by {self.user_id} on {self.paper_id}"


class TriageNote(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="notes")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="notes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return self.text[:60]


class TriageEvent(models.Model):
    """Every triage change, who and when; undo replays the previous state."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="triage_events")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20)
    previous_state = models.CharField(max_length=12, blank=True, help_text="Empty means new.")
    previous_note = models.TextField(blank=True)
    # What else undo needs: the previous decision's who/when, the previous vote,
    # the note or pick that the change created.
    detail = models.JSONField(default=dict, blank=True)
    batch = models.UUIDField(
        null=True, blank=True, db_index=True, help_text="Changes made in one bulk action undo together."
    )
    undone = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.action} on {self.paper_id}"


class TriageSession(models.Model):
    """A curator's visits to the queue: "new since my last session" reads the previous one."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="triage_sessions"
    )
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "issue", "-started_at"], name="triage_session_user_issue")]

    def __str__(self):
        return f"{self.user_id} from {self.started_at:%Y-%m-%d %H:%M}"


class AddedCandidate(models.Model):
    """A paper added to an issue's queue by hand, whatever its submission date."""

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="added_candidates")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="added_to_issues")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "paper"], name="added_candidate_once"),
        ]

    def __str__(self):
        return f"{self.paper_id} added to {self.issue_id}"


class SeenPaper(models.Model):
    """A curator has seen this paper in a queue: powers the "unseen by me" filter."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "paper"], name="seen_paper_once"),
        ]

    def __str__(self):
        return f"{self.paper_id} seen by {self.user_id}"


class WatchlistEntry(models.Model):
    class Kind(models.TextChoices):
        KEYWORD = "keyword", "keyword"
        AUTHOR = "author", "author"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlist")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    term = models.CharField(max_length=200)
    positive = models.BooleanField(
        default=True, help_text="Untick for a negative entry (−“quantum”): pushes papers down."
    )

    class Meta:
        ordering = ["user", "kind", "term"]
        verbose_name_plural = "watchlist entries"
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "term"], name="watchlist_unique"),
        ]

    def __str__(self):
        return f"{'' if self.positive else '−'}{self.term} ({self.kind})"


class RankerModel(models.Model):
    """One trained ranker: its version, training size and evaluation metrics."""

    version = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(
        max_length=20, default="linear", help_text="linear, or fallback with too few labels."
    )
    training_size = models.PositiveIntegerField(default=0)
    positives = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.BinaryField(null=True, editable=False, help_text="The fitted model, serialized.")
    active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]

    def __str__(self):
        return f"ranker v{self.version} ({self.kind})"


class PaperScore(models.Model):
    """The stored score of a paper under a ranker; the queue reads these."""

    paper = models.OneToOneField(Paper, on_delete=models.CASCADE, related_name="score")
    ranker = models.ForeignKey(RankerModel, on_delete=models.CASCADE, related_name="scores")
    score = models.FloatField(db_index=True)
    explanation = models.JSONField(default=dict, blank=True)
    scored_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.paper.arxiv_id}: {self.score:.3f}"


class CandidateQuerySet(PaperQuerySet):
    """Papers as an issue's triage queue sees them: the one definition the queue page,
    the candidates API and the ranker use."""

    def for_issue(self, issue):
        """The papers in ``issue``'s triage queue.

        Submitted inside the issue's period (UTC days, as arXiv lists them) or
        added to it by hand; minus papers rejected in any issue (a rejection is
        remembered for every later queue) and papers picked in any issue.
        """
        start = datetime.combine(issue.period_start, time.min, tzinfo=UTC)
        end = datetime.combine(issue.period_end + timedelta(days=1), time.min, tzinfo=UTC)
        in_period = models.Q(submitted_at__gte=start, submitted_at__lt=end)
        # The few hand-added ids are read now: a literal list lets PostgreSQL use the
        # submitted_at index (an OR with a subquery would filter every row instead).
        added = list(AddedCandidate.objects.filter(issue=issue).values_list("paper_id", flat=True))
        rejected = TriageDecision.objects.filter(
            paper=models.OuterRef("pk"), state=TriageDecision.State.REJECTED
        )
        picked = Pick.objects.filter(paper=models.OuterRef("pk"))
        return (
            self.filter(in_period | models.Q(pk__in=added) if added else in_period)
            .exclude(models.Exists(rejected))
            .exclude(models.Exists(picked))
        )

    def queue(self, issue, user, data, *, watchlist, since=None):
        """The queue's papers for the cleaned filter ``data`` (QueueFilterForm), unordered.

        ``watchlist`` (triage.watchlists.Watchlist) is ``user``'s, needed only for
        the "watchlist hits" filter; ``since`` is when their previous session ended.
        """
        state = data.get("state") or ""
        decided = TriageDecision.objects.filter(issue=issue, paper=OuterRef("pk"))
        if state == "rejected":
            qs = self.filter(Exists(decided.filter(state=TriageDecision.State.REJECTED)))
        elif state == "picked":
            qs = self.filter(Exists(Pick.objects.filter(issue=issue, paper=OuterRef("pk"))))
        else:
            qs = self.for_issue(issue)
            if state == "new":
                qs = qs.exclude(Exists(decided))
            elif state == "shortlisted":
                qs = qs.filter(Exists(decided.filter(state=TriageDecision.State.SHORTLISTED)))
        if data.get("category"):
            qs = _in_category(qs, data["category"].strip(), narrowed=state not in ("rejected", "picked"))
        if data.get("primary"):
            qs = qs.filter(primary_category=data["primary"].strip())
        if data.get("date_from"):
            qs = qs.filter(submitted_at__date__gte=data["date_from"])
        if data.get("date_to"):
            qs = qs.filter(submitted_at__date__lte=data["date_to"])
        if data.get("code"):
            qs = qs.exclude(code_url="")
        if data.get("author"):
            qs = _author_filter(qs, data["author"].strip())
        if data.get("watch"):
            qs = watchlist.filter(qs)
        if data.get("mine"):
            qs = qs.filter(Exists(decided.filter(state=TriageDecision.State.SHORTLISTED, by=user)))
        if data.get("min_votes") is not None:
            totals = (
                Vote.objects.filter(issue=issue, paper=OuterRef("pk"))
                .values("paper")
                .annotate(total=Sum("value"))
                .values("total")
            )
            qs = qs.annotate(
                vote_total=Coalesce(Subquery(totals, output_field=IntegerField()), Value(0))
            ).filter(vote_total__gte=data["min_votes"])
        if data.get("unseen"):
            qs = qs.exclude(Exists(SeenPaper.objects.filter(user=user, paper=OuterRef("pk"))))
        if data.get("since") and since is not None:
            qs = qs.filter(created__gt=since)
        # The issue's dates already narrow the queue to a month of papers: test the search on
        # those rows rather than reading the GIN index over the whole table.
        return filter_by_search(qs, data.get("q"), narrowed=state not in ("rejected", "picked"))


class Candidate(Paper):
    """A Paper in a triage queue (no table of its own): ``Candidate.objects.queue(…)``."""

    objects = CandidateQuerySet.as_manager()

    class Meta:
        proxy = True


def _in_category(qs, category, *, narrowed):
    if not narrowed or connection.vendor != "postgresql":
        return qs.in_category(category)
    # The issue's dates already narrow the queue to a month of papers; the GIN index
    # on categories would read every cs.LG paper ever listed to skip a few of them.
    row_categories = Coalesce(F("categories"), Value([], output_field=JSONField()))
    return qs.alias(row_categories=row_categories).filter(row_categories__contains=[category])


def _author_filter(qs, name):
    if connection.vendor == "postgresql":
        # The GIN index narrows the rows by the name's words; the contains test keeps
        # only papers where the name is among the authors (not in the abstract).
        return qs.filter(
            search_vector=SearchQuery(name, search_type="phrase", config="simple"),
            authors_text__icontains=name,
        )
    return qs.filter(authors_text__icontains=name)
