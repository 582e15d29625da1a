"""The two roles: Curators triage and draft; Editors also publish."""

from django.db import migrations

from curation.roles import ensure_roles


def create_roles(apps, schema_editor):
    ensure_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0001_initial"),
        ("papers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
