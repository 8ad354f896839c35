"""How the platform's door reads on the chat archive (scrm.access.registry).

Conversations and messages are reached through the customers they are with (the CUSTOMERS
policy: who sees a customer sees its chats) and, for group rooms, through the scopes of the
rooms' staff members; messages add the history window and the reader's own hides.
"""

from scrm.access.registry import register_rows
from scrm.access.scope import CUSTOMERS
from scrm.masking.free_text import register_raw_text_permission
from scrm.staff import roles

# Who holds it reads chat content (and other free text) raw; everyone else through the
# content detectors.
RAW_PERMISSION = "chats.reveal_message"


_READ = ["chats.view_conversation", "chats.view_message"]
_EXPORT = "chats.export_message"
# The permissions each role starts with (scrm.staff.roles.register_default_permissions).
DEFAULT_PERMISSIONS = {
    roles.SALES_REP: _READ,
    roles.TEAM_LEAD: [*_READ, _EXPORT],
    roles.SALES_MANAGER: [*_READ, _EXPORT],
    roles.LEGAL: [
        *_READ,
        RAW_PERMISSION,
        "chats.manage_legal_hold",
        "chats.view_legalhold",
        _EXPORT,
    ],
    roles.AUDITOR: [*_READ, _EXPORT],
    roles.SECURITY_OFFICER: [
        "chats.view_sensitivewordrule",
        "chats.add_sensitivewordrule",
        "chats.change_sensitivewordrule",
    ],
}


def register() -> None:
    roles.register_default_permissions(DEFAULT_PERMISSIONS)
    from chats.models import Conversation, Message, conversation_rows, message_rows

    register_rows(Conversation, policy=CUSTOMERS, rows=conversation_rows)
    register_rows(Message, policy=CUSTOMERS, rows=message_rows, requires="chats.view_message")
    register_raw_text_permission(RAW_PERMISSION)
