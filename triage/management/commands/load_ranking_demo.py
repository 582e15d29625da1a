"""`make run`: a draft "June 2025" whose queue is ranked by a model trained on earlier real picks.

Run after ``harvest_sample`` (which loads the June 2025 candidates). Loads
triage/sample_data/ranking-history.jsonl.gz — real papers listed on arXiv
between 2025-03-18 and 2025-05-31 (CC0 metadata) with real human picks made
before June 2025: the dair-ai weekly top-10 (our "picks") and Hugging Face
daily papers (our "shortlists"), plus 4,000 unpicked May papers, the weak
negatives. The history lives in a draft issue that is never published
("History: picks before June 2025"); drafts never reach public pages.

Idempotent: a second run finds everything in place and changes nothing.
"""

import gzip
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from issues.models import Issue, Pick
from papers.ingest import PaperRecord, import_entries
from papers.models import Paper
from triage.models import PaperScore, RankerModel, TriageDecision
from triage.ranking import score_papers, train_ranker

HISTORY_FILE = Path(__file__).resolve().parents[2] / "sample_data" / "ranking-history.jsonl.gz"
HISTORY_SLUG = "history-before-june-2025"
JUNE_SLUG = "june-2025"


def submitted_at(listing_day):
    """arXiv lists a paper the business day after its submission (Monday: Thu-Fri)."""
    day = date.fromisoformat(listing_day)
    back = 3 if day.weekday() == 0 else 1
    return datetime.combine(day - timedelta(days=back), time(18, 0), tzinfo=UTC)


def history_rows():
    with gzip.open(HISTORY_FILE, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@transaction.atomic
def load_history(rows):
    """Papers, the History issue with its picks and shortlists; returns how many labels were added."""
    records = []
    for row in rows:
        when = submitted_at(row["date"])
        records.append(
            PaperRecord(
                arxiv_id=row["arxiv_id"],
                version=1,
                title=row["title"],
                abstract=row["abstract"],
                authors=[(name, "") for name in row["authors"]],
                primary_category=row["categories"][0],
                categories=row["categories"],
                submitted_at=when,
                updated_at=when,
            )
        )
    import_entries(records)
    history, _ = Issue.objects.get_or_create(
        slug=HISTORY_SLUG,
        defaults={
            "title": "History: picks before June 2025",
            "subtitle": "Ranker training data, not for publication: real earlier picks "
            "(dair-ai weekly top-10 as picks, Hugging Face daily papers as shortlists).",
            "period_start": date(2025, 3, 17),
            "period_end": date(2025, 5, 31),
        },
    )
    papers = dict(
        Paper.objects.filter(arxiv_id__in=[r["arxiv_id"] for r in rows if r["label"]]).values_list(
            "arxiv_id", "pk"
        )
    )
    picked = set(Pick.objects.filter(issue=history).values_list("paper_id", flat=True))
    shortlisted = set(TriageDecision.objects.filter(issue=history).values_list("paper_id", flat=True))
    position = Pick.objects.filter(issue=history).count()
    new_picks, new_shortlists = [], []
    for row in rows:
        paper_id = papers.get(row["arxiv_id"])
        if row["label"] == "pick" and paper_id not in picked:
            position += 1
            new_picks.append(
                Pick(issue=history, paper_id=paper_id, position=position, paper_title=row["title"])
            )
        elif row["label"] == "shortlist" and paper_id not in shortlisted:
            new_shortlists.append(
                TriageDecision(
                    issue=history,
                    paper_id=paper_id,
                    state=TriageDecision.State.SHORTLISTED,
                    note=f"Hugging Face daily papers, {row['period']}",
                )
            )
    Pick.objects.bulk_create(new_picks)
    TriageDecision.objects.bulk_create(new_shortlists)
    return len(new_picks) + len(new_shortlists)


class Command(BaseCommand):
    help = "Create the draft “June 2025” issue ranked by a model trained on earlier real picks."

    def handle(self, *args, **options):
        added = load_history(history_rows())
        june, created = Issue.objects.get_or_create(
            slug=JUNE_SLUG,
            defaults={
                "title": "June 2025",
                "subtitle": "Draft: the harvested sample month, ranked by our model",
                "period_start": date(2025, 6, 1),
                "period_end": date(2025, 6, 30),
            },
        )
        if added or not RankerModel.objects.filter(active=True).exists():
            model = train_ranker()
            self.stdout.write(
                f"Trained ranker v{model.version} ({model.kind}) on {model.training_size} papers "
                f"({model.positives} earlier picks and shortlists); metrics: {json.dumps(model.metrics)}"
            )
        june_papers = Paper.objects.filter(
            submitted_at__date__gte=june.period_start, submitted_at__date__lte=june.period_end
        )
        unscored = june_papers.filter(score__isnull=True).exists()
        if added or created or unscored:
            scored = score_papers()
            self.stdout.write(f"Scored {scored} papers; “{june.title}” has {june_papers.count()} candidates.")
        else:
            self.stdout.write("The ranking demo is already in place; nothing changed.")
        if not june_papers.exists():
            self.stdout.write("No June 2025 papers yet: run `manage.py harvest_sample` first.")
        elif not PaperScore.objects.filter(paper__in=june_papers).exists():
            self.stdout.write("June 2025 papers are not scored.")
