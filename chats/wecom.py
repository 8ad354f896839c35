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
from datetime import UTC, datetime, timedelta
from typing import cast

from django.utils.translation import gettext_lazy as _

from chats.models import Message
from customers.models import Customer

TYPES = {t.value for t in Message.Type} - {Message.Type.SYSTEM}
MAX_TEXT = 100_000
# The columns these values are stored in, so a too-long value is this record's error (the
# database refused it, or SQLite silently kept it) instead of failing the whole batch.
MAX_PERSON_ID = cast(int, Customer._meta.get_field("wecom_external_userid").max_length)  # WeCom: 64
MAX_ROOM_ID = cast(int, Message._meta.get_field("external_id").max_length)
MAX_RECIPIENTS = 5_000  # a WeCom group room has at most 2,000 members
MAX_FILENAME = cast(int, Message._meta.get_field("attachment_name").max_length)
MAX_CONTENT_TYPE = cast(int, Message._meta.get_field("attachment_content_type").max_length)
MAX_SIZE = 2**63 - 1  # a bigint
# The archive starts with WeCom (2016); a clock a day fast is tolerated, a year 9999 is not
# (it overflows when shown in local time).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)


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
        raise InvalidRecord(_("'%(key)s' must be a non-empty string") % {"key": key})
    if len(value) > max_length:
        raise InvalidRecord(
            _("'%(key)s' is longer than %(max_length)s characters")
            % {"key": key, "max_length": max_length}
        )
    return value.strip()


def _check_strings(value, where: str = "the record") -> None:
    """Every string in the record is storable text: no NUL (PostgreSQL refuses it in text) and
    no lone surrogate (not UTF-8; the digest and the database cannot encode it)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidRecord(_("%(where)s contains a NUL character") % {"where": where})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidRecord(_("%(where)s is not valid UTF-8 text") % {"where": where}) from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, where)
            _check_strings(item, f"'{key}'" if isinstance(key, str) else where)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item, where)


def _person(value, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(_("'%(key)s' must hold non-empty ids") % {"key": key})
    if len(value.strip()) > MAX_PERSON_ID:
        raise InvalidRecord(
            _("an id in '%(key)s' is longer than %(MAX_PERSON_ID)s characters")
            % {"key": key, "MAX_PERSON_ID": MAX_PERSON_ID}
        )
    return value.strip()


def _attachment_name(body: dict) -> str:
    """The file name as sent, refused when it is not a plain name: it is shown, offered for
    download and (with media) names the stored file, where a path would escape the folder."""
    name = body.get("filename", "")
    if name in ("", None):
        return ""
    if not isinstance(name, str):
        raise InvalidRecord(_("'filename' must be a string"))
    if len(name) > MAX_FILENAME:
        raise InvalidRecord(
            _("'filename' is longer than %(MAX_FILENAME)s characters")
            % {"MAX_FILENAME": MAX_FILENAME}
        )
    if "/" in name or "\\" in name or name.strip() in (".", "..") or not name.isprintable():
        raise InvalidRecord(_("'filename' must be a plain file name, without a path"))
    return name


def _size(body: dict, media: bytes | None) -> int | None:
    if media is not None:
        return len(media)
    size = body.get("filesize") or body.get("voice_size")
    if size is None or isinstance(size, bool) or not isinstance(size, int):
        return None
    if not 0 <= size <= MAX_SIZE:
        raise InvalidRecord(_("'filesize' is out of range"))
    return size


def canonical_digest(record: dict) -> str:
    """SHA-256 over the record with sorted keys: the same message always gives the same digest."""
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_record(record) -> ParsedMessage:
    if not isinstance(record, dict):
        raise InvalidRecord(_("each message must be a JSON object"))
    try:
        _check_strings(record)
    except RecursionError as exc:
        raise InvalidRecord(_("the record is nested too deeply")) from exc
    msgid = _require_str(record, "msgid")
    action = record.get("action", "send")
    if action != "send":
        raise InvalidRecord(
            _("action %(action)s is not a message") % {"action": repr(str(action)[:40])}
        )
    sender = _person(record.get("from"), "from")
    recipients = record.get("tolist", [])
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise InvalidRecord(_("'tolist' must be a list of ids"))
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidRecord(
            _("'tolist' holds more than %(MAX_RECIPIENTS)s ids")
            % {"MAX_RECIPIENTS": MAX_RECIPIENTS}
        )
    recipients = [_person(r, "tolist") for r in recipients if r]
    room_id = record.get("roomid") or ""
    if not isinstance(room_id, str):
        raise InvalidRecord(_("'roomid' must be a string"))
    if len(room_id) > MAX_ROOM_ID:
        raise InvalidRecord(
            _("'roomid' is longer than %(MAX_ROOM_ID)s characters") % {"MAX_ROOM_ID": MAX_ROOM_ID}
        )
    msgtime = record.get("msgtime")
    if isinstance(msgtime, bool) or not isinstance(msgtime, int) or msgtime <= 0:
        raise InvalidRecord(_("'msgtime' must be a positive integer (milliseconds)"))
    try:
        sent_at = datetime.fromtimestamp(msgtime / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidRecord(_("'msgtime' is out of range")) from exc
    if not EARLIEST <= sent_at <= datetime.now(tz=UTC) + FUTURE_TOLERANCE:
        raise InvalidRecord(_("'msgtime' is out of range"))
    msg_type = record.get("msgtype")
    if msg_type not in TYPES:
        raise InvalidRecord(
            _("unsupported msgtype %(msg_type)s") % {"msg_type": repr(str(msg_type)[:40])}
        )
    body = record.get(msg_type, {})
    if not isinstance(body, dict):
        raise InvalidRecord(_("'%(msg_type)s' must be an object") % {"msg_type": msg_type})
    text = _text_of(msg_type, body)
    if len(text) > MAX_TEXT:
        raise InvalidRecord(
            _("text is longer than %(MAX_TEXT)s characters") % {"MAX_TEXT": MAX_TEXT}
        )
    media = None
    if "media_base64" in record:
        try:
            media = base64.b64decode(record["media_base64"], validate=True)
        except (binascii.Error, TypeError) as exc:
            raise InvalidRecord(_("'media_base64' is not valid base64")) from exc
    digest_source = {k: v for k, v in record.items() if k != "media_base64"}
    if media is not None:
        digest_source["media_sha256"] = hashlib.sha256(media).hexdigest()
    revokes = str(body.get("pre_msgid", "")) if msg_type == "revoke" else ""
    content_type = str(record.get("media_content_type", ""))
    if len(content_type) > MAX_CONTENT_TYPE:
        raise InvalidRecord(
            _("'media_content_type' is longer than %(MAX_CONTENT_TYPE)s characters")
            % {"MAX_CONTENT_TYPE": MAX_CONTENT_TYPE}
        )
    return ParsedMessage(
        msgid=msgid,
        sender=sender,
        recipients=recipients,
        room_id=room_id,
        sent_at=sent_at,
        msg_type=msg_type,
        text=text,
        digest=canonical_digest(digest_source),
        revokes=revokes,
        attachment_name=_attachment_name(body),
        attachment_size=_size(body, media),
        attachment_content_type=content_type,
        media=media,
    )
