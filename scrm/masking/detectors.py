"""Content detectors for free text (chat messages, follow-up notes).

Each detector finds one kind of sensitive value inside prose and masks it where it stands.
Regular expressions alone over-match (any 18 digits, any 16 digits), so ID numbers must pass
the GB 11643 checksum and bank cards the Luhn check before they count.
"""

import re

from scrm.masking.masks import mask_email, mask_id_number, mask_mobile
from scrm.masking.validation import is_valid_id_number

_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d{9})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx])(?![\dA-Za-z])")
_BANK_CARD = re.compile(r"(?<!\d)(\d{13,19})(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _mask_bank_card(number: str) -> str:
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


def mask_text(text: str) -> str:
    """Mask mobile numbers, checksummed ID numbers, Luhn-valid bank cards and emails in text."""
    if not text:
        return text
    text = _ID_NUMBER.sub(
        lambda m: mask_id_number(m.group(1)) if is_valid_id_number(m.group(1)) else m.group(0),
        text,
    )
    text = _MOBILE.sub(lambda m: m.group(0).replace(m.group(1), mask_mobile(m.group(1))), text)
    text = _BANK_CARD.sub(
        lambda m: _mask_bank_card(m.group(1)) if luhn_ok(m.group(1)) else m.group(0), text
    )
    return _EMAIL.sub(lambda m: mask_email(m.group(0)), text)


def contains_sensitive(text: str) -> bool:
    return mask_text(text) != text
