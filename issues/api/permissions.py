"""Who may call the curation endpoints. The state-changing functions check roles again themselves."""

from rest_framework.permissions import BasePermission

from issues.publishing import is_curator, is_editor


class IsCurator(BasePermission):
    """Curators and editors (an anonymous caller gets 401, a reader 403)."""

    message = "Only curators and editors can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and is_curator(request.user))


class IsEditor(BasePermission):
    message = "Only editors can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and is_editor(request.user))
