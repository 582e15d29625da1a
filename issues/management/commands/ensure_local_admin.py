import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Embedded mode only: create a local superuser 'admin' if no superuser exists, "
        "and print its generated password once."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            # No default credentials in production: create accounts with createsuperuser.
            raise CommandError("ensure_local_admin only runs with DEBUG on; use createsuperuser.")
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser already exists; log in at http://127.0.0.1:8000/admin/.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@localhost", password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the local admin account — user: admin, password: {password}\n"
                "(shown once; log in at http://127.0.0.1:8000/admin/)"
            )
        )
