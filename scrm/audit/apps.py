from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "scrm.audit"
    label = "audit"
    verbose_name = "Audit"

    def ready(self):
        from django.core import checks

        from scrm.access.door import check_read_door

        # The read door is checked at start-up: an undeclared action fails `manage.py check`.
        checks.register(check_read_door, checks.Tags.security, checks.Tags.urls)
