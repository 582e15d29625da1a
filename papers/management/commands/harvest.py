from datetime import date

from django.core.management.base import BaseCommand, CommandError

from papers.harvest import harvest_source
from papers.models import HarvestRun, HarvestSource


def _date(text):
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"“{text}” is not a date (YYYY-MM-DD).") from exc


def run_summary(run):
    window = f"{run.window_start:%Y-%m-%d} .. {run.window_end:%Y-%m-%d}" if run.window_start else "-"
    lines = [
        f"run #{run.pk} {run.status} ({run.query or run.kind}) window {window}",
        f"  pages {run.pages}, fetched {run.fetched}: created {run.created_count}, "
        f"updated {run.updated_count}, unchanged {run.unchanged_count}; retries {run.retries}",
    ]
    if run.error:
        lines.append(f"  {run.error}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Harvest arXiv now for a source (or categories) and print the run summary."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--source", help="source name (default: every enabled source)")
        group.add_argument("--categories", help="ad-hoc categories, e.g. cs.LG,cs.CL")
        parser.add_argument("--since", type=_date, help="first submission day, YYYY-MM-DD (UTC)")
        parser.add_argument("--until", type=_date, help="last submission day, YYYY-MM-DD (UTC)")

    def handle(self, *args, source=None, categories=None, since=None, until=None, **options):
        if categories:
            cats = [c.strip() for c in categories.split(",") if c.strip()]
            runs = [harvest_source(None, categories=cats, since=since, until=until)]
        else:
            sources = (
                HarvestSource.objects.filter(name=source)
                if source
                else HarvestSource.objects.filter(enabled=True)
            )
            if not sources:
                raise CommandError(f"No source named “{source}”." if source else "No enabled source.")
            runs = [harvest_source(s.pk, since=since, until=until) for s in sources]
        for run in runs:
            self.stdout.write(run_summary(run))
        bad = [r for r in runs if r.status in (HarvestRun.Status.FAILED,)]
        if bad:
            raise CommandError(f"{len(bad)} harvest run(s) failed.")
