"""Role and permission names as people read them.

Django stores both as English rows (`auth_group.name` is the role key scrm's code checks,
`auth_permission.name` is written once at migrate time), and every page prints them through
`__str__`: select options, list filters, breadcrumbs, the change log. Translating in
`__str__` (installed by `StaffConfig.ready`) is the one place that covers all of them.
"""

from django.contrib.auth.models import Group, Permission
from django.utils.translation import gettext, gettext_noop

from scrm.staff.roles import role_label

DEFAULT_ACTIONS = {
    "add": gettext_noop("Can add %(model)s"),
    "change": gettext_noop("Can change %(model)s"),
    "delete": gettext_noop("Can delete %(model)s"),
    "view": gettext_noop("Can view %(model)s"),
}


def permission_name(permission: Permission) -> str:
    model = permission.content_type.model_class()
    action, _, model_name = permission.codename.partition("_")
    if model is not None and action in DEFAULT_ACTIONS and model_name == model._meta.model_name:
        return gettext(DEFAULT_ACTIONS[action]) % {"model": model._meta.verbose_name}
    # A Meta.permissions entry (marked with gettext_noop where it is declared), or a library's.
    return gettext(permission.name)


def permission_label(permission: Permission) -> str:
    return f"{permission.content_type} | {permission_name(permission)}"


def group_label(group: Group) -> str:
    return role_label(group.name)


def install() -> None:
    # Replacing the models' __str__ is the point: every admin widget lists them by it.
    Group.__str__ = group_label  # type: ignore[method-assign, assignment]
    Permission.__str__ = permission_label  # type: ignore[method-assign, assignment]
