"""The roles' permissions on the triage tables: read-only history, own watchlists.

Also takes back what curators were granted while the tables were the issues
app's (changing or deleting a triage decision from an admin form).
"""

from django.db import migrations

from curation.roles import ensure_roles


def update_roles(apps, schema_editor):
    ensure_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("triage", "0001_initial"),
        ("issues", "0002_roles"),
    ]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
