"""Content detectors for free text (chat messages, notes, reasons, file names).

`mask_text` finds sensitive values inside prose and masks each where it stands, in the shape
its mask in masks.py already has (138****5678, 3101**********1234, z***@example.com, ...).
The detectors favour recall: people type numbers with separators, prefixes, a stray digit,
full-width digits or a wrong check digit, and each of those is still somebody's number.

- e-mail addresses;
- WeChat IDs: `wxid_...` anywhere, and an id after 微信/微信号/vx/wx/WeChat/weixin;
- mainland addresses: an administrative area (省/自治区/市/区/县/旗) followed by a road, street
  or lane and a number or building (张江路100号, 天津路Z座), masked down to the district;
- numbers: runs of digits, joined across single separators (space, hyphen), classified by
  their digits: mobiles (1[3-9] + 9 digits, also after 86/0086, with a leading 0 or one digit
  glued in front or behind), ID numbers (18 digits or 17 + X with a valid birth date and a
  plausible region, whatever the check digit; 15-digit old IDs with a valid YYMMDD) and bank
  cards (13-19 digits, a card-scheme prefix and the Luhn check).

Engine: the standard library's `re`. No pattern here nests a quantifier inside another
quantified group (tests/masking/test_detector_corpus.py walks the parsed patterns to hold
that), and every repetition that can meet a long run of the same characters is bounded, so
each pattern does at most a constant amount of work per starting position: linear in the
text. Joining digit runs across separators, which a regular expression would express with a
nested quantifier, is a plain loop over the runs instead. `regex` and google-re2 were not
needed: neither adds anything these flat patterns use (re2 would also refuse the lookbehinds).
"""

import re
from collections.abc import Callable
from datetime import date

from scrm.masking.masks import (
    mask_address,
    mask_email,
    mask_id_number,
    mask_mobile,
    mask_wechat_id,
)
from scrm.masking.validation import id_checksum_char

# One character for one character (so positions in the folded text are positions in the
# original): full-width digits, letters X/x, @, plus, hyphens and the ideographic space.
_FOLD = str.maketrans(
    {
        **{chr(0xFF10 + d): str(d) for d in range(10)},
        "Ｘ": "X",
        "ｘ": "x",
        "＠": "@",
        "＋": "+",
        "－": "-",
        "—": "-",
        "–": "-",
        "‐": "-",
        "\u3000": " ",
        "\u00a0": " ",
        "\t": " ",
    }
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}")
_WXID = re.compile(r"(?<![A-Za-z0-9])wxid_[-_A-Za-z0-9]{1,30}", re.IGNORECASE)
# A WeChat ID is 6-20 characters, a letter first; after a keyword, an optional 号/号码/ID,
# 是/为/:/：/= and spaces. The keyword must not end a longer Latin word (linux, ...).
_WECHAT = re.compile(
    r"(?:微信|威信|薇信|[vV]信|(?<![A-Za-z])(?i:wechat|weixin|vx|wx))"
    r"(?:号码|号|(?i:id))?[ ]{0,3}(?:是|为|:|：|=)?[ ]{0,3}"
    r"(?P<id>[a-zA-Z][-_a-zA-Z0-9]{5,19})"
)
# Address: an area, then (after at most 20 more characters: further areas, the street's name)
# a road/street/lane word, then a number or a building (Z座, 100号, 3栋), then whatever of the
# building/unit/room follows up to the next punctuation or space. Or, without a number, two
# areas and a road (上海市浦东新区张江路). Each area is an atomic group (Python 3.11+): the
# shortest name ending in an area word is taken and never re-tried longer, which keeps a run
# like 区区区区... from multiplying the bounded repetitions into each other.
_CJK = "\u4e00-\u9fff"
_AREA = rf"(?>[{_CJK}]{{1,8}}?(?:省|自治区|特别行政区|市|区|县|旗))"
_DISTRICT = rf"(?>[{_CJK}]{{1,8}}?(?:区|县|旗|镇|乡))"
_ROAD = r"(?:路|街|道|巷|弄|胡同|里)"
_ADDRESS = re.compile(
    rf"(?:{_AREA}[{_CJK}A-Za-z0-9]{{0,20}}?{_ROAD}[A-Za-z0-9-]{{1,8}}"
    r"(?:号|座|栋|幢|弄|楼|单元|室|院)"
    rf"|{_AREA}{_DISTRICT}[{_CJK}]{{1,12}}?{_ROAD})"
    rf"[{_CJK}A-Za-z0-9#-]{{0,30}}"
)
_DIGITS = re.compile(r"[0-9]+")
# Between two digit runs of one number: one hyphen or up to two spaces, or " - ".
_SEPARATOR = re.compile(r"[ ]{0,2}-?[ ]{0,2}")

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# Province-level codes of GB/T 2260 (first two digits of an ID number), 83 = Taiwan residents'
# mainland permits, 91 = permanent residence permits of foreigners.
_REGIONS = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83 91".split()
)
_MAX_DIGITS = 19  # the longest value classified (a bank card)


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


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def looks_like_id_number(value: str) -> bool:
    """18 characters (17 digits + digit/X) with a plausible region and a valid birth date, or a
    valid checksum and birth date; or 15 digits with a valid YYMMDD. The check digit is not
    required: a mistyped ID number is still somebody's ID number."""
    value = value.upper()
    if len(value) == 18 and value[:17].isdigit() and (value[17].isdigit() or value[17] == "X"):
        born = _valid_date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        return born and (value[:2] in _REGIONS or id_checksum_char(value[:17]) == value[17])
    if len(value) == 15 and value.isdigit():
        born = _valid_date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
        return born and value[:2] in _REGIONS
    return False


def _card_scheme(number: str) -> bool:
    """UnionPay/Maestro/Discover (6), Visa (4), Mastercard (51-55, 2221-2720), Amex, JCB and
    Diners (3), the old domestic 9xxx cards: a card number starts with one of these."""
    return number[0] in "34569" or (number[0] == "2" and 2221 <= int(number[:4]) <= 2720)


def _classify(digits: str) -> tuple[int, int, str] | None:
    """(start, end, mask) of the sensitive part of one number's digits, or None."""
    n = len(digits)
    if n in (15, 18) and looks_like_id_number(digits):
        return 0, n, mask_id_number(digits.upper())
    if not digits.isdigit():
        return None
    if n == 11 and _MOBILE.fullmatch(digits):
        return 0, 11, mask_mobile(digits)
    if n == 12:  # a leading 0, or a digit glued in front or behind
        if _MOBILE.fullmatch(digits[1:]):
            return 1, 12, mask_mobile(digits[1:])
        if _MOBILE.fullmatch(digits[:11]):
            return 0, 11, mask_mobile(digits[:11])
    if n == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        return 2, 13, mask_mobile(digits[2:])
    if n == 15 and digits.startswith("0086") and _MOBILE.fullmatch(digits[4:]):
        return 4, 15, mask_mobile(digits[4:])
    if 13 <= n <= _MAX_DIGITS and _card_scheme(digits) and luhn_ok(digits):
        return 0, n, _mask_bank_card(digits)
    return None


def _number_spans(folded: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) for each sensitive number in the folded text.

    Digit runs separated by one separator form a chain; within a chain the longest window of
    consecutive runs (at most 19 digits) that classifies wins, left to right. Windows are
    bounded by the digit count, so the work is linear in the number of runs."""
    runs = [(m.start(), m.end()) for m in _DIGITS.finditer(folded)]
    chains: list[list[tuple[int, int]]] = []
    for start, end in runs:
        if chains and _SEPARATOR.fullmatch(folded, chains[-1][-1][1], start):
            chains[-1].append((start, end))
        else:
            chains.append([(start, end)])
    spans = []
    for chain in chains:
        i = 0
        while i < len(chain):
            found = _longest_window(folded, chain, i)
            if found is None:
                i += 1
                continue
            i, start, end, replacement = found
            spans.append((start, end, replacement))
    return spans


def _longest_window(
    folded: str, chain: list[tuple[int, int]], i: int
) -> tuple[int, int, int, str] | None:
    """The longest run of digit runs from chain[i] that classifies: (index after it, start,
    end, mask), or None."""
    ends, count = [], 0
    for start, end in chain[i:]:
        count += end - start
        if count > _MAX_DIGITS:
            break
        ends.append(count)
    for j in range(len(ends) - 1, -1, -1):
        if ends[j] < 11:
            return None
        window = chain[i : i + j + 1]
        positions = [p for start, end in window for p in range(start, end)]
        digits = "".join(folded[start:end] for start, end in window)
        after = positions[-1] + 1
        if len(digits) == 17 and folded[after : after + 1] in ("X", "x"):
            digits, positions = digits + "X", [*positions, after]
        hit = _classify(digits)
        if hit:
            return i + j + 1, positions[hit[0]], positions[hit[1] - 1] + 1, hit[2]
    return None


def _regex_spans(
    pattern: re.Pattern[str], mask: Callable[[str], str], group: int | str = 0
) -> Callable[[str], list[tuple[int, int, str]]]:
    def spans(folded: str) -> list[tuple[int, int, str]]:
        return [
            (m.start(group), m.end(group), mask(m.group(group))) for m in pattern.finditer(folded)
        ]

    return spans


# In this order: each pass runs on the previous one's output, so a value masked by an earlier
# pass (the digits of 13912345678@qq.com, an address's house number) is not found again.
_PASSES = (
    _regex_spans(_EMAIL, mask_email),
    _regex_spans(_WXID, mask_wechat_id),
    _regex_spans(_WECHAT, mask_wechat_id, "id"),
    _regex_spans(_ADDRESS, mask_address),
    _number_spans,
)


def _apply(text: str, spans: list[tuple[int, int, str]]) -> str:
    if not spans:
        return text
    pieces, at = [], 0
    for start, end, replacement in spans:
        pieces.append(text[at:start])
        pieces.append(replacement)
        at = end
    pieces.append(text[at:])
    return "".join(pieces)


def mask_text(text: str) -> str:
    """Mask mobiles, ID numbers, bank cards, e-mails, WeChat IDs and addresses in free text."""
    if not text:
        return text
    for find in _PASSES:
        text = _apply(text, find(text.translate(_FOLD)))
    return text


def contains_sensitive(text: str) -> bool:
    return mask_text(text) != text
