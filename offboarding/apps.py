from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffboardingConfig(AppConfig):
    verbose_name = _("Offboarding")
    name = "offboarding"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from offboarding.models import CaseStep, CustomerTransfer, OffboardingCase

        auditlog.register(OffboardingCase, m2m_fields={"successors"})
        auditlog.register(CaseStep, include_fields=["status", "error"])
        auditlog.register(CustomerTransfer, include_fields=["status", "to_owner", "reason"])
