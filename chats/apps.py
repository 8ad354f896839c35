from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatsConfig(AppConfig):
    verbose_name = _("Chat archive")
    name = "chats"

    def ready(self) -> None:
        from chats import access

        access.register()
        from chats import alerts  # noqa: F401 (names its alert kind)
        from chats.models import (
            HistoryWindow,
            LegalHold,
            PurgeLog,
            RetentionPolicy,
            SensitiveWordRule,
        )
        from scrm.audit.links import register_bound
        from scrm.audit.registry import register as register_changelog

        # Configuration and legal decisions are logged by django-auditlog. Hold reasons are
        # free text that people paste numbers into: the content detectors mask those values
        # inside the log and leave the rest readable.
        reasons = ["reason", "release_reason"]
        register_changelog(
            LegalHold, mask_fields=reasons, mask_callable="scrm.masking.detectors.mask_text"
        )
        register_changelog(RetentionPolicy)
        register_changelog(SensitiveWordRule)
        register_changelog(HistoryWindow)
        # A purge deletes messages in bulk, which auditlog cannot see; its PurgeLog row is the
        # audit summary instead, and registering it logs the row's creation and every batch's
        # update (counts, progress) inside that batch's transaction (see chats.retention).
        register_changelog(PurgeLog)
        register_bound("chats.LegalHold", "customer", "conversation__customer")

        # A customer's hand-over (customers.ownership) takes the owner's conversations along.
        from chats.ownership import hand_over_conversations
        from customers.ownership import register_hand_over

        register_hand_over(hand_over_conversations)

        # A rep's home: their latest conversations (built over the rep's scope).
        from chats.panels import recent_chats_panel
        from scrm.dashboard import Panel, register_panel

        register_panel(
            Panel(
                key="recent_chats",
                template="admin/chats/panels/recent_chats.html",
                build=recent_chats_panel,
                order=30,
            )
        )
