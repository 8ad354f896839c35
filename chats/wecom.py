"""The decrypted WeCom chat archive format (one JSON object per message), parsed and checked.

    {"msgid": "...", "action": "send", "from": "zhangsan", "tolist": ["wmXXXX"], "roomid": "",
     "msgtime": 1700000000000, "msgtype": "text", "text": {"content": "你好"}}

Both `import_chats` and the batch API read this one format.
"""

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chats.models import Message

TYPES = {t.value for t in Message.Type} - {Message.Type.SYSTEM}
MAX_TEXT = 100_000


class InvalidRecord(ValueError):
    """A record that cannot be stored; the message says why."""


@dataclass
class ParsedMessage:
    msgid: str
    sender: str
    recipients: list[str]
    room_id: str
    sent_at: datetime
    msg_type: str
    text: str
    digest: str
    revokes: str = ""
    attachment_name: str = ""
    attachment_size: int | None = None
    attachment_content_type: str = ""
    media: bytes | None = field(default=None, repr=False)


def _text_of(msg_type: str, body: dict) -> str:
    if msg_type == "text":
        return str(body.get("content", ""))
    if msg_type == "link":
        parts = (body.get("title"), body.get("description"), body.get("link_url"))
        return " ".join(str(p) for p in parts if p)
    if msg_type == "file":
        return str(body.get("filename", ""))
    if msg_type == "card":
        return str(body.get("corpname", ""))
    return ""


def _require_str(record: dict, key: str, *, max_length: int = 128) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(f"'{key}' must be a non-empty string")
    if len(value) > max_length:
        raise InvalidRecord(f"'{key}' is longer than {max_length} characters")
    return value.strip()


def canonical_digest(record: dict) -> str:
    """SHA-256 over the record with sorted keys: the same message always gives the same digest."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_record(record) -> ParsedMessage:
    if not isinstance(record, dict):
        raise InvalidRecord("each message must be a JSON object")
    msgid = _require_str(record, "msgid")
    action = record.get("action", "send")
    if action != "send":
        raise InvalidRecord(f"action '{action}' is not a message")
    sender = _require_str(record, "from")
    recipients = record.get("tolist", [])
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise InvalidRecord("'tolist' must be a list of ids")
    room_id = record.get("roomid") or ""
    if not isinstance(room_id, str):
        raise InvalidRecord("'roomid' must be a string")
    msgtime = record.get("msgtime")
    if isinstance(msgtime, bool) or not isinstance(msgtime, int) or msgtime <= 0:
        raise InvalidRecord("'msgtime' must be a positive integer (milliseconds)")
    try:
        sent_at = datetime.fromtimestamp(msgtime / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidRecord("'msgtime' is out of range") from exc
    msg_type = record.get("msgtype")
    if msg_type not in TYPES:
        raise InvalidRecord(f"unsupported msgtype {msg_type!r}")
    body = record.get(msg_type, {})
    if not isinstance(body, dict):
        raise InvalidRecord(f"'{msg_type}' must be an object")
    text = _text_of(msg_type, body)
    if len(text) > MAX_TEXT:
        raise InvalidRecord(f"text is longer than {MAX_TEXT} characters")
    media = None
    if "media_base64" in record:
        try:
            media = base64.b64decode(record["media_base64"], validate=True)
        except (binascii.Error, TypeError) as exc:
            raise InvalidRecord("'media_base64' is not valid base64") from exc
    digest_source = {k: v for k, v in record.items() if k != "media_base64"}
    if media is not None:
        digest_source["media_sha256"] = hashlib.sha256(media).hexdigest()
    revokes = str(body.get("pre_msgid", "")) if msg_type == "revoke" else ""
    size = body.get("filesize") or body.get("voice_size")
    if media is not None:
        size = len(media)
    return ParsedMessage(
        msgid=msgid,
        sender=sender,
        recipients=[r for r in recipients if r],
        room_id=room_id,
        sent_at=sent_at,
        msg_type=msg_type,
        text=text,
        digest=canonical_digest(digest_source),
        revokes=revokes,
        attachment_name=str(body.get("filename", ""))[:255],
        attachment_size=len(media)
        if media is not None
        else (size if isinstance(size, int) else None),
        attachment_content_type=str(record.get("media_content_type", ""))[:100],
        media=media,
    )
