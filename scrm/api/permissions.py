from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


def model_permission(*perms: str) -> type[BasePermission]:
    """A DRF permission class requiring every named Django permission (held through roles)."""

    class HasModelPermission(BasePermission):
        message = _("Your role does not give access to this resource.")

        def has_permission(self, request, view) -> bool:
            return bool(
                request.user and request.user.is_authenticated and request.user.has_perms(perms)
            )

    HasModelPermission.__name__ = f"Has_{'_'.join(p.split('.')[1] for p in perms)}"
    return HasModelPermission
