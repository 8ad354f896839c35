"""Builders for WeCom archive records as the decrypted archive SDK emits them."""

import itertools
from datetime import datetime

from django.utils import timezone

_ids = itertools.count(1)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def text_record(
    sender: str,
    to: str,
    content: str,
    *,
    at: datetime | None = None,
    msgid: str | None = None,
    roomid: str = "",
) -> dict:
    return {
        "msgid": msgid or f"wecom-msg-{next(_ids)}",
        "action": "send",
        "from": sender,
        "tolist": [to],
        "roomid": roomid,
        "msgtime": ms(at or timezone.now()),
        "msgtype": "text",
        "text": {"content": content},
    }


def revoke_record(sender: str, to: str, target_msgid: str) -> dict:
    return {
        "msgid": f"wecom-msg-{next(_ids)}",
        "action": "send",
        "from": sender,
        "tolist": [to],
        "roomid": "",
        "msgtime": ms(timezone.now()),
        "msgtype": "revoke",
        "revoke": {"pre_msgid": target_msgid},
    }
