"""Who may do what: the one module every role check comes from.

Two roles, as groups: Curators triage and draft; Editors also publish,
schedule, unpublish and correct published issues. Superusers are editors.
The change functions (issues/publishing.py, issues/editing.py,
triage/decisions.py, …) call ``require_curator`` / ``require_editor``
themselves; the admin and the API only decide what to show, with the same
``is_curator`` / ``is_editor``, and DRF views use ``IsCurator`` / ``IsEditor``.

The groups are created by migration issues/0002; ``ensure_roles`` is
idempotent, so the same code also restores them (after a test database flush).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

CURATORS = "Curators"
EDITORS = "Editors"

CURATOR_PERMISSIONS = [
    ("issues", "issue", ["view", "change"]),
    ("issues", "pick", ["view", "add", "change", "delete"]),
    ("issues", "figure", ["view", "add", "change", "delete"]),
    ("issues", "revision", ["view"]),
    ("papers", "paper", ["view", "add", "change"]),
    ("papers", "author", ["view"]),
    ("papers", "harvestsource", ["view"]),
    ("papers", "harvestrun", ["view"]),
    # The triage history is read-only in the admin: decisions change through the queue.
    ("triage", "triagedecision", ["view"]),
    ("triage", "triageevent", ["view"]),
    ("triage", "watchlistentry", ["view", "add", "change", "delete"]),
    ("triage", "rankermodel", ["view"]),
    ("triage", "paperscore", ["view"]),
]
EDITOR_EXTRA = [
    ("issues", "issue", ["add", "delete"]),
    ("papers", "harvestsource", ["add", "change"]),
]


def ensure_roles(apps=global_apps):
    """Create both groups with their permissions; returns (curators, editors)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Idempotent: only missing content types and permissions are created. Inside a
    # migration the apps are historical, whose configs need models_module set for it.
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

    # set(), not add(): a permission the roles no longer grant (say, changing a triage
    # decision from an admin form) is taken away again.
    curators, _ = Group.objects.get_or_create(name=CURATORS)
    curators.permissions.set(permissions(CURATOR_PERMISSIONS))
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    editors.permissions.set(permissions(CURATOR_PERMISSIONS + EDITOR_EXTRA))
    return curators, editors


def _group_names(user):
    """The user's group names, read once per user object (a page checks roles several times)."""
    names = getattr(user, "_role_group_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))
        user._role_group_names = names
    return names


def _active(user):
    return user is not None and getattr(user, "is_active", False) and user.is_authenticated


def is_editor(user):
    return _active(user) and (user.is_superuser or EDITORS in _group_names(user))


def is_curator(user):
    """Curators and editors: everyone who triages and drafts."""
    return _active(user) and (user.is_superuser or bool({CURATORS, EDITORS} & _group_names(user)))


def require_curator(user, action):
    """Raise PermissionDenied ("Only curators and editors can <action>.") unless ``user`` is one."""
    if not is_curator(user):
        raise PermissionDenied(f"Only curators and editors can {action}.")


def require_editor(user, action):
    if not is_editor(user):
        raise PermissionDenied(f"Only editors can {action}.")


class IsCurator(BasePermission):
    """DRF: curators and editors (authenticated by session or token)."""

    message = "Only curators and editors can do this."

    def has_permission(self, request, view):
        return is_curator(request.user)


class IsEditor(BasePermission):
    message = "Only editors can do this."

    def has_permission(self, request, view):
        return is_editor(request.user)
