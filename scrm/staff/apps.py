from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StaffConfig(AppConfig):
    name = "scrm.staff"
    label = "staff"
    verbose_name = "Staff and organisation"

    def ready(self) -> None:
        from scrm.staff import lockout, signals  # noqa: F401 (receivers)
        from scrm.staff.roles import ensure_role_groups

        # Permissions exist only after every app migrated, so roles are created post-migrate.
        post_migrate.connect(ensure_role_groups, dispatch_uid="scrm.ensure_role_groups")
