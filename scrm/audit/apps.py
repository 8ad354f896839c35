from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    verbose_name = _("Audit")
    name = "scrm.audit"
    label = "audit"

    def ready(self) -> None:
        from django.core import checks

        from scrm.access.door import check_read_door

        # The read door is checked at start-up: an undeclared action fails `manage.py check`.
        checks.register(check_read_door, checks.Tags.security, checks.Tags.urls)

        # The homes of auditors and security officers.
        from scrm.audit import panels
        from scrm.dashboard import Panel, register_panel

        for order, key, build in [
            (70, "open_alerts", panels.open_alerts_panel),
            (80, "reveals_exports", panels.reveals_exports_panel),
            (90, "flagged_reads", panels.flagged_reads_panel),
        ]:
            template = f"admin/audit/panels/{key}.html"
            register_panel(Panel(key=key, template=template, build=build, order=order))
