from django.core.management.base import BaseCommand, CommandError

from papers.harvest import add_papers_by_id


class Command(BaseCommand):
    help = "Add papers by arXiv id or URL (2103.10360, arXiv:2103.10360v2, https://arxiv.org/abs/…)."

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="+", metavar="ID_OR_URL")

    def handle(self, *args, ids=(), **options):
        results = add_papers_by_id(ids)
        for result in results:
            label = result["arxiv_id"] or result["input"]
            line = f"{result['status']:<9} {label}"
            if result["status"] == "error":
                line += f": {result['message']}"
            self.stdout.write(line)
        errors = [r for r in results if r["status"] == "error"]
        if errors:
            raise CommandError(f"{len(errors)} of {len(results)} could not be added.")
