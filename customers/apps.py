from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    verbose_name = _("Customers")
    name = "customers"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from customers.models import (
            Customer,
            CustomerUserObjectPermission,
            FollowUp,
            Transaction,
        )
        from scrm.masking.policy import SENSITIVE_FIELDS, register_masked_log

        # Changes are logged by django-auditlog with sensitive values masked inside the log,
        # each by its own mask (a name as 张**, a mobile as 138****5678); blind indexes are
        # derived data and would only add noise.
        register_masked_log(
            Customer,
            sensitive=list(SENSITIVE_FIELDS),
            exclude_fields=["mobile_bidx", "id_number_bidx", "updated_at"],
            m2m_fields={"tags"},
        )
        auditlog.register(FollowUp, mask_fields=["note"])
        auditlog.register(Transaction)
        # A share opens a customer to a colleague: granting and revoking it are changes to log.
        auditlog.register(CustomerUserObjectPermission)
