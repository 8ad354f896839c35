from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    verbose_name = _("Customers")
    name = "customers"

    def ready(self) -> None:
        from customers import access

        access.register()
        from customers.models import (
            Customer,
            CustomerUserObjectPermission,
            FollowUp,
            Transaction,
        )
        from scrm.audit.links import register_bound, register_subject
        from scrm.audit.registry import register as register_changelog
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
        register_changelog(FollowUp, mask_fields=["note"])
        register_changelog(Transaction)
        # A share opens a customer to a colleague: granting and revoking it are changes to log.
        register_changelog(CustomerUserObjectPermission)
        # The change log narrows entries about customers (and rows bound to one) to the
        # viewer's scope; the audit filters' "customer id" means a Customer id.
        register_subject("customers.Customer")
        register_bound("customers.FollowUp", "customer")
        register_bound("customers.Transaction", "customer")
        register_bound("customers.CustomerUserObjectPermission", "content_object")
        register_panels()


def register_panels() -> None:
    """The sales homes: a rep's own work, a lead's or manager's team figures."""
    from customers import dashboard
    from scrm.dashboard import Panel, register_panel

    base = "admin/customers/panels"
    for order, key, build in [
        (10, "my_customers", dashboard.my_customers_panel),
        (20, "follow_ups", dashboard.follow_ups_panel),
        (40, "pipeline", dashboard.pipeline_panel),
        (50, "weekly_new_customers", dashboard.weekly_panel),
        (60, "team_overdue", dashboard.team_overdue_panel),
    ]:
        register_panel(Panel(key=key, template=f"{base}/{key}.html", build=build, order=order))
