"""How chat content is shown: through the content detectors unless the viewer may see it raw."""

from scrm.masking.detectors import mask_text

RAW_PERMISSION = "chats.reveal_message"


def shows_raw_content(user) -> bool:
    return user.has_perm(RAW_PERMISSION)


def display_text(user, text: str) -> str:
    return text if shows_raw_content(user) else mask_text(text)
