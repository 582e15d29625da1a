from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IssuesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "issues"

    def ready(self):
        # Connects the harvest's papers_updated receiver (issues/page_cache.py).
        from . import page_cache

        post_migrate.connect(page_cache.retire_pages_after_migrate, sender=self)
