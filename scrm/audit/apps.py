from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "scrm.audit"
    label = "audit"
    verbose_name = "Audit"
