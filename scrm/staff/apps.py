from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    verbose_name = _("Staff and organisation")
    name = "scrm.staff"
    label = "staff"

    def ready(self) -> None:
        from django.apps import apps
        from django.contrib.auth.models import Group

        from scrm.audit.registry import register as register_changelog
        from scrm.staff import labels, lockout, signals  # noqa: F401 (receivers)
        from scrm.staff.changelog import STAFF_BOUND, STAFF_LOG_OPTIONS, connect_reverse_m2m
        from scrm.staff.models import Staff
        from scrm.staff.roles import ensure_role_groups

        labels.install()  # role and permission names in the viewer's language
        # Permissions exist only after every app migrated, so roles are created post-migrate.
        post_migrate.connect(ensure_role_groups, dispatch_uid="scrm.ensure_role_groups")

        # Every change to who may do what is in the change log (scrm.staff.changelog): staff
        # records (never the password hash), their roles and permissions, the roles'
        # permissions, and every row bound to one staff member (devices).
        register_changelog(Staff, **STAFF_LOG_OPTIONS)
        register_changelog(Group, m2m_fields={"permissions"})
        for label, (_lookup, options) in STAFF_BOUND.items():
            register_changelog(apps.get_model(label), **options)
        connect_reverse_m2m(Staff)
