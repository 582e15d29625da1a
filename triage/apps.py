from django.apps import AppConfig


class TriageConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "triage"

    def ready(self):
        from papers.harvest import harvest_finished

        from .tasks import on_harvest_finished

        harvest_finished.connect(on_harvest_finished, dispatch_uid="triage-rank-after-harvest")
