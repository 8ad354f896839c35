from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffboardingConfig(AppConfig):
    verbose_name = _("Offboarding")
    name = "offboarding"

    def ready(self) -> None:
        from offboarding import access

        access.register()
        from offboarding import panels
        from offboarding.models import CaseStep, CustomerTransfer, OffboardingCase
        from scrm.audit.links import register_bound
        from scrm.audit.registry import register as register_changelog
        from scrm.dashboard import Panel, register_panel

        register_changelog(OffboardingCase, m2m_fields={"successors"})
        register_changelog(CaseStep, include_fields=["status", "error"])
        register_changelog(CustomerTransfer, include_fields=["status", "to_owner", "reason"])
        register_bound("offboarding.CustomerTransfer", "customer")

        folder = "admin/offboarding/panels"
        for key, build, order in (
            ("notifications", panels.notifications_panel, 10),
            ("offboarding_approvals", panels.approvals_panel, 20),
            ("offboarding_cases", panels.cases_panel, 30),
            ("offboarding_notice", panels.notice_panel, 40),
        ):
            register_panel(
                Panel(key=key, template=f"{folder}/{key}.html", build=build, order=order)
            )
