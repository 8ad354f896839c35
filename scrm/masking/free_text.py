"""How free text (chat messages, follow-up notes, file names) is shown: through the content
detectors unless the viewer may read it raw.

Which permission lets a viewer read free text raw is registered by the app that owns it (the
chat archive registers chats.reveal_message), so the platform names no domain permission.
"""

from typing import TYPE_CHECKING

from scrm.masking.detectors import mask_text

if TYPE_CHECKING:
    from scrm.staff.types import Viewer

_RAW_PERMISSIONS: list[str] = []


def register_raw_text_permission(permission: str) -> None:
    if permission not in _RAW_PERMISSIONS:
        _RAW_PERMISSIONS.append(permission)


def shows_raw_content(user: "Viewer | None") -> bool:
    # No viewer (an admin column rendered outside ViewerAdminMixin): nobody to show it raw to.
    if user is None:
        return False
    return any(user.has_perm(permission) for permission in _RAW_PERMISSIONS)


def display_text(user: "Viewer | None", text: str) -> str:
    return text if shows_raw_content(user) else mask_text(text)
