"""The two roles as groups: Curators triage and draft; Editors also publish.

Created by migration 0002; ``ensure_roles`` is idempotent, so the same code
also restores them (for example after a test database flush).
"""

from django.apps import apps as global_apps

CURATORS = "Curators"
EDITORS = "Editors"

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


def ensure_roles(apps=global_apps):
    """Create both groups with their permissions; returns (curators, editors)."""
    from django.contrib.auth.management import create_permissions

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    if not Permission.objects.filter(content_type__app_label="issues").exists():
        for app_config in apps.get_app_configs():
            if apps is not global_apps:
                app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            if apps is not global_apps:
                app_config.models_module = None

    def permissions(spec):
        codenames = {
            (app_label, f"{action}_{model}") for app_label, model, actions in spec for action in actions
        }
        found = Permission.objects.filter(
            content_type__app_label__in={app for app, _ in codenames},
            codename__in={codename for _, codename in codenames},
        )
        return [p for p in found if (p.content_type.app_label, p.codename) in codenames]

    curators, _ = Group.objects.get_or_create(name=CURATORS)
    curators.permissions.add(*permissions(CURATOR_PERMISSIONS))
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    editors.permissions.add(*permissions(CURATOR_PERMISSIONS + EDITOR_EXTRA))
    return curators, editors
