"""The two roles: Curators triage and draft; Editors also publish."""

from django.db import migrations

CURATOR_PERMISSIONS = [
    ("issues", "issue", ["view", "change"]),
    ("issues", "pick", ["view", "add", "change", "delete"]),
    ("issues", "figure", ["view", "add", "change", "delete"]),
    ("issues", "revision", ["view"]),
    ("issues", "triagedecision", ["view", "add", "change", "delete"]),
    ("papers", "paper", ["view", "add", "change"]),
    ("papers", "author", ["view"]),
    ("papers", "harvestsource", ["view"]),
    ("papers", "harvestrun", ["view"]),
    ("papers", "watchlistentry", ["view", "add", "change", "delete"]),
    ("papers", "rankermodel", ["view"]),
    ("papers", "paperscore", ["view"]),
]
EDITOR_EXTRA = [
    ("issues", "issue", ["add", "delete"]),
    ("papers", "harvestsource", ["add", "change"]),
]


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(spec):
        for app_label, model, actions in spec:
            for action in actions:
                yield Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")

    curators, _ = Group.objects.get_or_create(name="Curators")
    curators.permissions.add(*permissions(CURATOR_PERMISSIONS))
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(*permissions(CURATOR_PERMISSIONS + EDITOR_EXTRA))


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0001_initial"),
        ("papers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
