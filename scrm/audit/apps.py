from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    verbose_name = _("Audit")
    name = "scrm.audit"
    label = "audit"

    def ready(self):
        from django.core import checks

        from scrm.access.door import check_read_door

        # The read door is checked at start-up: an undeclared action fails `manage.py check`.
        checks.register(check_read_door, checks.Tags.security, checks.Tags.urls)
