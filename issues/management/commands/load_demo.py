from django.core.management.base import BaseCommand

from issues.demo.loader import load_demo


class Command(BaseCommand):
    help = "Create and publish the demo issue (April 2021). Running it again changes nothing."

    def handle(self, *args, **options):
        issue, created = load_demo()
        if created:
            self.stdout.write(f"Published the demo issue “{issue.title}” with {issue.picks.count()} picks.")
        else:
            self.stdout.write(f"The demo issue “{issue.title}” is already there; nothing changed.")
