"""`make run`: harvest the shipped sample month from the fake arXiv, in-process.

Starts the fake server on a free port with papers/sample_data/2025-06.jsonl.gz,
harvests the default source over the sample's submission days with no
politeness wait (it is our own server), and stops it. Idempotent: a second run
finds every paper unchanged.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from papers.fake_arxiv import FakeArxiv, load_entries
from papers.harvest import harvest_source
from papers.management.commands.harvest import run_summary
from papers.models import HarvestRun, HarvestSource

SAMPLE_FIRST_DAY = date(2025, 5, 29)
SAMPLE_LAST_DAY = date(2025, 6, 29)  # the last Sunday: the sample has no later submissions


class Command(BaseCommand):
    help = "Harvest the shipped sample month (June 2025 listings) from a local fake arXiv."

    def add_arguments(self, parser):
        parser.add_argument("--source", default="machine-learning")

    def handle(self, *args, source="machine-learning", **options):
        try:
            harvest_source_obj = HarvestSource.objects.get(name=source)
        except HarvestSource.DoesNotExist as exc:
            raise CommandError(f"No source named “{source}”.") from exc
        server = FakeArxiv(load_entries()).start()
        try:
            with override_settings(
                ARXIV_API_URL=server.url, ARXIV_REQUEST_INTERVAL=0, ARXIV_PAGE_SIZE=2000, ARXIV_BACKOFF=0.1
            ):
                run = harvest_source(harvest_source_obj.pk, since=SAMPLE_FIRST_DAY, until=SAMPLE_LAST_DAY)
        finally:
            server.stop()
        self.stdout.write(run_summary(run))
        if run.status == HarvestRun.Status.FAILED:
            raise CommandError("The sample harvest failed.")
