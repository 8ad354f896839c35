"""Roles are Django groups; these are their names and the permissions each starts with.

Administrators may change a group's permissions in the admin afterwards: defaults are applied
only when a group is first created, so a tuned configuration survives later migrations.
"""

from auditlog.context import disable_auditlog
from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext_lazy

SALES_REP = "Sales rep"
TEAM_LEAD = "Team lead"
SALES_MANAGER = "Sales manager"
HR = "HR"
LEGAL = "Legal"
AUDITOR = "Auditor"
SECURITY_OFFICER = "Security officer"
ADMINISTRATOR = "Administrator"
ALL_ROLES = (
    SALES_REP,
    TEAM_LEAD,
    SALES_MANAGER,
    HR,
    LEGAL,
    AUDITOR,
    SECURITY_OFFICER,
    ADMINISTRATOR,
)

# The platform's own permissions per role; each domain app adds its own from its AppConfig
# (`register_default_permissions`: customers.access, chats.access, offboarding.access), so
# the platform names no domain permission.
_AUDIT_READ = ["audit.view_accessevent", "audit.view_securityalert", "auditlog.view_logentry"]

DEFAULT_PERMISSIONS: dict[str, list[str]] = {
    SALES_REP: [],
    TEAM_LEAD: ["staff.view_staff"],
    SALES_MANAGER: ["staff.view_staff"],
    HR: [
        "staff.view_staff",
        "staff.add_staff",
        "staff.change_staff",
        "staff.view_department",
        "staff.view_team",
        "staff.view_device",
    ],
    LEGAL: [],
    AUDITOR: [*_AUDIT_READ],
    SECURITY_OFFICER: [*_AUDIT_READ, "audit.change_securityalert"],
    ADMINISTRATOR: [],  # every permission, see ensure_role_groups
}


def register_default_permissions(defaults: dict[str, list[str]]) -> None:
    """Add an app's permissions to the roles' defaults (applied when a group is created)."""
    for role, permissions in defaults.items():
        DEFAULT_PERMISSIONS[role].extend(
            p for p in permissions if p not in DEFAULT_PERMISSIONS[role]
        )


def ensure_role_groups(sender=None, using: str = DEFAULT_DB_ALIAS, apps=global_apps, **kwargs):
    """Create the role groups with their default permissions (post_migrate, idempotent).

    Not in the change log: the defaults are this module, applied by migrate, not a change
    anyone made."""
    if sender is not None and sender.label != "staff":
        return
    with disable_auditlog():
        _create_role_groups(using)


def _create_role_groups(using: str) -> None:
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    Group = global_apps.get_model("auth", "Group")
    Permission = global_apps.get_model("auth", "Permission")
    for role, perms in DEFAULT_PERMISSIONS.items():
        group, created = Group.objects.using(using).get_or_create(name=role)
        if not created:
            continue
        if role == ADMINISTRATOR:
            group.permissions.set(Permission.objects.using(using).all())
            continue
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.using(using).get(
                    content_type__app_label=app_label, codename=codename
                )
            )


# How people read the role names (the groups' names are the English keys above).
ROLE_LABELS = {
    SALES_REP: gettext_lazy("Sales rep"),
    TEAM_LEAD: gettext_lazy("Team lead"),
    SALES_MANAGER: gettext_lazy("Sales manager"),
    HR: gettext_lazy("HR"),
    LEGAL: gettext_lazy("Legal"),
    AUDITOR: gettext_lazy("Auditor"),
    SECURITY_OFFICER: gettext_lazy("Security officer"),
    ADMINISTRATOR: gettext_lazy("Administrator"),
}


def role_label(name: str) -> str:
    """A role's name in the viewer's language; a group an administrator added keeps its own."""
    return str(ROLE_LABELS.get(name, name))
