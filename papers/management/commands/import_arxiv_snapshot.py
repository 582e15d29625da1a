from datetime import date

from django.core.management.base import BaseCommand, CommandError

from papers.management.commands.harvest import run_summary
from papers.snapshot import import_snapshot


def _date(text):
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"“{text}” is not a date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = "Backfill from arXiv's bulk metadata snapshot (JSON lines, plain or gzip); resumable."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--categories", help="keep papers in any of these, e.g. cs.LG,cs.CL")
        parser.add_argument("--since", type=_date, help="keep papers updated on or after YYYY-MM-DD")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--restart", action="store_true", help="start from the top, not where the last run stopped"
        )

    def handle(self, *args, file, categories=None, since=None, batch_size=5000, restart=False, **options):
        cats = [c for c in (categories or "").split(",") if c.strip()]

        def progress(run, lines, done, total, elapsed):
            rate = run.fetched / elapsed if elapsed else 0
            eta = (total - done) / (done / elapsed) if done and elapsed else 0
            self.stdout.write(
                f"  line {lines:,}: {run.fetched:,} records, {rate:,.0f} records/s, "
                f"{100 * done / max(total, 1):.0f}% of the file, ETA {eta:,.0f} s"
            )

        run = import_snapshot(
            file, categories=cats, since=since, batch_size=batch_size, restart=restart, progress=progress
        )
        self.stdout.write(run_summary(run))
        if run.status == "failed":
            raise CommandError(run.error)
