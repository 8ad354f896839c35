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

_SALES_COMMON = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.share_customer",
    "customers.reveal_basic",
    "customers.reveal_contact",
    "customers.view_followup",
    "customers.add_followup",
    "customers.change_followup",
    "customers.view_transaction",
    "customers.add_transaction",
    "customers.change_transaction",  # their own deals only (customers.services)
    "customers.view_tag",
    "chats.view_conversation",
    "chats.view_message",
]
_CHAT_EXPORT = ["chats.export_message"]
_CASE_READ = [
    "offboarding.view_offboardingcase",
    "offboarding.view_customertransfer",
    "offboarding.view_casestep",
]
_AUDIT_READ = ["audit.view_accessevent", "audit.view_securityalert", "auditlog.view_logentry"]

DEFAULT_PERMISSIONS: dict[str, list[str]] = {
    SALES_REP: _SALES_COMMON,
    TEAM_LEAD: [
        *_SALES_COMMON,
        *_CHAT_EXPORT,
        *_CASE_READ,
        "customers.transfer_customer",
        "staff.view_staff",
    ],
    SALES_MANAGER: [
        *_SALES_COMMON,
        *_CHAT_EXPORT,
        *_CASE_READ,
        "customers.transfer_customer",
        "staff.view_staff",
    ],
    HR: [
        "customers.view_customer",
        "staff.view_staff",
        "staff.add_staff",
        "staff.change_staff",
        "staff.view_department",
        "staff.view_team",
        "staff.view_device",
        *_CASE_READ,
        "offboarding.add_offboardingcase",
        "offboarding.change_offboardingcase",
        "offboarding.run_offboardingcase",
    ],
    LEGAL: [
        "customers.view_customer",
        "customers.view_followup",
        "customers.view_transaction",
        "customers.view_tag",
        "customers.reveal_basic",
        "customers.reveal_contact",
        "customers.reveal_identity",
        "customers.export_raw",
        "chats.view_conversation",
        "chats.view_message",
        "chats.reveal_message",
        "chats.manage_legal_hold",
        "chats.view_legalhold",
        *_CHAT_EXPORT,
    ],
    AUDITOR: [
        "customers.view_customer",
        "customers.view_followup",
        "customers.view_transaction",
        "customers.view_tag",
        "chats.view_conversation",
        "chats.view_message",
        *_CHAT_EXPORT,
        *_AUDIT_READ,
    ],
    SECURITY_OFFICER: [
        *_AUDIT_READ,
        "audit.change_securityalert",
        "chats.view_sensitivewordrule",
        "chats.add_sensitivewordrule",
        "chats.change_sensitivewordrule",
    ],
    ADMINISTRATOR: [],  # every permission, see ensure_role_groups
}


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
