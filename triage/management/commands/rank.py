"""`python manage.py rank`: train the ranker on our history, rescore, print the metrics."""

import json

from django.core.management.base import BaseCommand

from triage.ranking import score_papers, train_ranker


class Command(BaseCommand):
    help = "Train the ranker on our picks, shortlists and rejections, rescore the candidates, print metrics."

    def add_arguments(self, parser):
        parser.add_argument("--no-train", action="store_true", help="Rescore with the active model only.")
        parser.add_argument("--no-score", action="store_true", help="Train only; leave stored scores alone.")

    def handle(self, *args, no_train=False, no_score=False, **options):
        if not no_train:
            model = train_ranker()
            self.stdout.write(
                f"Trained ranker v{model.version} ({model.kind}) on {model.training_size} papers, "
                f"{model.positives} positive."
            )
            self.stdout.write(json.dumps(model.metrics, indent=2, ensure_ascii=False))
        if not no_score:
            scored = score_papers()
            self.stdout.write(f"Scored {scored} papers.")
