"""The free-text detectors against what people actually type.

Recall: several hundred variants generated with Faker's zh_CN providers (seeded, so the corpus
is the same on every run) in the formats seen in real chats (separators, prefixes, full-width
digits, a stray digit, a wrong check digit, WeChat phrases, cards in groups of four) plus
hand-written edge cases; at least 99 % must be masked and every miss is listed.
Precision: ordinary business text (prices, order and invoice numbers, dates, times,
quantities, model numbers, percentages) must come back unchanged on at least 95 % of lines,
and every false positive is listed.
"""

import random
import re
from datetime import date

# The parser behind `re` (Python 3.11+; sre_parse and sre_constants are deprecated aliases).
from re import _constants as sre_constants
from re import _parser as sre_parse

import pytest
from faker import Faker

from scrm.masking import detectors
from scrm.masking.detectors import looks_like_id_number, luhn_ok, mask_text
from scrm.masking.masks import mask_address, mask_id_number, mask_mobile, mask_wechat_id
from scrm.masking.validation import id_checksum_char

SEED = 9004
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
_FOLD_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789Xx")


def _kept(secret: str, masked: str) -> bool:
    """Whether `secret` (digits or an id) still stands in the masked text, also with the
    separators taken out (139 8765 4321 -> 13987654321)."""
    folded = masked.translate(_FOLD_DIGITS)
    squeezed = re.sub(r"[\s\-－—\u3000]", "", folded)
    return secret in folded or secret in squeezed or secret.upper() in squeezed.upper()


def _groups(value: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, at = [], 0
    for size in sizes:
        parts.append(value[at : at + size])
        at += size
    if at < len(value):
        parts.append(value[at:])
    return sep.join(p for p in parts if p)


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        if luhn_ok(body + check):
            return body + check
    raise AssertionError("unreachable")


def _wrong_check_digit(id_number: str) -> str:
    right = id_checksum_char(id_number[:17])
    wrong = next(c for c in "0123456789X" if c != right and c != id_number[17])
    return id_number[:17] + wrong


def _old_id(new_id: str) -> str:
    """The 15-digit ID of the same person: region, YYMMDD, sequence (no check digit)."""
    return new_id[:6] + new_id[8:14] + new_id[14:17]


def recall_corpus() -> list[tuple[str, str]]:
    """(text, secret) pairs: after masking, `secret` must not be readable in the text."""
    Faker.seed(SEED)
    fake = Faker("zh_CN")
    rng = random.Random(SEED)
    corpus: list[tuple[str, str]] = []

    mobile_formats = [
        lambda m: m,
        lambda m: _groups(m, (3, 4, 4), "-"),
        lambda m: _groups(m, (3, 4, 4), " "),
        lambda m: f"+86 {m}",
        lambda m: f"+86-{_groups(m, (3, 4, 4), '-')}",
        lambda m: f"+86{m}",
        lambda m: f"0086-{m}",
        lambda m: f"0086 {_groups(m, (3, 4, 4), ' ')}",
        lambda m: f"86-{m}",
        lambda m: f"(+86){m}",
        lambda m: f"（+86）{_groups(m, (3, 4, 4), ' ')}",
        lambda m: f"0{m}",
        lambda m: f"8{m}",
        lambda m: f"{m}7",
        lambda m: m.translate(FULL_WIDTH),
        lambda m: _groups(m, (3, 4, 4), "－").translate(FULL_WIDTH),
        lambda m: _groups(m, (3, 3, 5), " "),
        lambda m: _groups(m, (3, 4, 4), " - "),
    ]
    mobile_phrases = ["我电话{}", "手机：{}", "打我手机 {} 就行", "{}（微信同号）", "联系 {}"]
    for number in range(90):
        mobile = fake.phone_number()
        shown = mobile_formats[number % len(mobile_formats)](mobile)
        corpus.append((rng.choice(mobile_phrases).format(shown), mobile))

    id_formats = [
        lambda i: i,
        lambda i: _groups(i, (6, 8, 4), " "),
        lambda i: _groups(i, (6, 8, 4), "-"),
        lambda i: _groups(i, (4, 4, 4, 4, 2), " "),
        lambda i: _wrong_check_digit(i),
        lambda i: _groups(_wrong_check_digit(i), (6, 8, 4), " "),
        lambda i: i.translate(FULL_WIDTH),
        lambda i: i.lower(),
        lambda i: _old_id(i),
    ]
    id_phrases = ["身份证{}", "身份证号：{}", "证件号码 {} 请核对", "客户身份证 {}（已核验）"]
    for number in range(70):
        id_number = fake.ssn()
        shown = id_formats[number % len(id_formats)](id_number)
        if number % len(id_formats) == len(id_formats) - 1:
            secret = _old_id(id_number)
        else:
            secret = shown.translate(_FOLD_DIGITS).replace(" ", "").replace("-", "").upper()
        corpus.append((rng.choice(id_phrases).format(shown), secret))

    wechat_phrases = [
        "加我微信 {}",
        "微信：{}",
        "微信号是{}",
        "我的微信号 {}",
        "vx: {}",
        "VX {}",
        "wx:{}",
        "WX号 {}",
        "WeChat: {}",
        "weixin {}",
        "加个V信{}吧",
        "微信ID={}",
    ]
    for number in range(60):
        wechat = f"{fake.user_name()}{rng.choice(['_', '-', ''])}{rng.randint(10, 9999)}"
        wechat = wechat if wechat[0].isalpha() else "a" + wechat
        corpus.append((wechat_phrases[number % len(wechat_phrases)].format(wechat), wechat))
    for _ in range(15):
        wxid = f"wxid_{fake.pystr(min_chars=8, max_chars=14).lower()}"
        corpus.append((f"对方的 {wxid} 已经加上了", wxid))

    address_phrases = ["地址：{}", "寄到{}", "我住在{}，周末在家", "收货地址 {}", "{}"]
    for number in range(60):
        street = fake.street_address()
        if number % 3 == 0:
            street = f"{fake.street_name()}{rng.randint(1, 999)}号"
        if number % 4 == 0:
            street += f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 2801)}室"
        address = f"{fake.province()}{fake.city()}{fake.district()}区{street}"
        if number % 5 == 0:
            address = f"{fake.address()}"
            street = address.split(" ")[0][-6:]
        corpus.append((rng.choice(address_phrases).format(address), street))

    card_prefixes = ["6222", "6228", "6217", "6225", "4367", "5187", "6212", "6259", "6013"]
    for number in range(50):
        card = _luhn_complete(rng.choice(card_prefixes), rng.choice([16, 19]), rng)
        shown = [
            card,
            _groups(card, (4, 4, 4, 4), " "),
            _groups(card, (4, 4, 4, 4), "-"),
            _groups(card, (6, 13), " "),
            card.translate(FULL_WIDTH),
        ][number % 5]
        corpus.append((f"卡号 {shown} 户名李四", card))

    for _ in range(30):
        email = fake.email()
        corpus.append((f"发到我邮箱{email}，谢谢", email))

    corpus.extend(HAND_WRITTEN)
    return corpus


HAND_WRITTEN = [
    ("我电话139-8765-4321，微信 vx: zhangsan_88", "13987654321"),
    ("我电话139-8765-4321，微信 vx: zhangsan_88", "zhangsan_88"),
    ("身份证 310101 19900307 1235（校验位错的）", "310101199003071235"),
    ("身份证正反面_310101199003071234_13987654321.jpg", "310101199003071234"),
    ("身份证正反面_310101199003071234_13987654321.jpg", "13987654321"),
    ("１３９８７６５４３２１", "13987654321"),
    ("电话：0086 138 1234 5678", "13812345678"),
    ("(+86) 138-1234-5678", "13812345678"),
    ("手机013812345678", "13812345678"),
    ("号码是813812345678吗", "13812345678"),
    ("13812345678@qq.com", "13812345678"),
    ("加我微信wxid_abc123def", "wxid_abc123def"),
    ("weixin:Li_Lei2026 备注客户", "Li_Lei2026"),
    ("卡号：6222 0212 3456 7890 128", "6222021234567890128"),
    ("上海市浦东新区张江路100号", "张江路100号"),
    ("北京市朝阳区建国路88号SOHO现代城5号楼1201室", "建国路88号"),
    ("广东省深圳市南山区科技园深南大道9988号", "深南大道9988号"),
    ("宁夏回族自治区银川市兴庆区解放西街88号", "解放西街88号"),
    ("上海市浦东新区张江路", "张江路"),
    ("11010519491231002X", "11010519491231002X"),
    ("身份证 11010519491231002x", "11010519491231002X"),
    ("旧身份证 310101900307123", "310101900307123"),
    ("手机 1 3 9 8 7 6 5 4 3 2 1", "13987654321"),
]


PRECISION_LINES = [
    "报价 ¥12,800.00，含税",
    "合同金额 ¥1,280,000.00 元",
    "订单号 SO-20261201-0042 已发货",
    "订单号 2026120100123",
    "订单编号：PO2026120200017",
    "发票号码 04403170，发票代码 044031900111",
    "电子发票号码 24442000000012345678",
    "交货日期 2026-12-02",
    "会议时间 14:30-15:30",
    "2026年12月2日下午3点开会",
    "数量 120 件，单价 35.5 元",
    "型号 RTX4090，库存 18 台",
    "iPhone 15 Pro Max 256GB",
    "折扣 15%，满 2000 减 300",
    "转化率提升了 12.5%",
    "快递单号 SF1234567890123",
    "工单 #45821 已关闭",
    "版本 v2.3.11 发布",
    "温度 23.5°C，湿度 65%",
    "第 3 季度销售额 4,560 万",
    "客服热线 400-820-8820",
    "总部电话 021-62345678",
    "合同号 HT-2026-1201-007",
    "项目编号 PRJ20261202",
    "批次 B20261201-03",
    "尺寸 1920x1080",
    "重量 2.5kg，长宽高 30 x 20 x 15 cm",
    "ISBN 978-7-111-54742-6",
    "序列号 C02XK1ABJGH5",
    "华东区渠道 12 家",
    "华南区销售额增长 20%",
    "上海市场部的周会改到周三",
    "微信支付已到账 ¥3,200",
    "请用微信扫码付款",
    "客户说 WeChat Pay 更方便",
    "已加入微信群",
    "本市 3 号仓库已满",
    "库存编码 SKU-889120-BLK",
    "预计 2027-01-15 交付",
    "账期 30 天，利率 4.35%",
]


def precision_corpus() -> list[str]:
    """Business lines: the fixed ones above plus generated prices, dates, times, order numbers
    and quantities."""
    Faker.seed(SEED + 1)
    fake = Faker("zh_CN")
    rng = random.Random(SEED + 1)
    lines = list(PRECISION_LINES)
    for _ in range(40):
        when = fake.date_between(start_date=date(2024, 1, 1), end_date=date(2027, 12, 31))
        amount = rng.randint(100, 9_999_999) / 100
        order = f"{when:%Y%m%d}{rng.randint(1, 99999):05d}"
        lines.append(f"{when:%Y-%m-%d} 收款 ¥{amount:,.2f}，订单号 {order}")
        lines.append(
            f"{fake.company()} 采购 {rng.randint(1, 500)} 台，{fake.time(pattern='%H:%M')} 送达"
        )
        discount = rng.randint(1, 40)
        lines.append(f"订单 SO-{when:%Y%m%d}-{rng.randint(1, 9999):04d}，折扣 {discount}%")
    return lines


def test_recall_is_at_least_99_percent_and_every_miss_is_listed():
    corpus = recall_corpus()
    assert len(corpus) >= 300

    misses = [(text, mask_text(text)) for text, secret in corpus if _kept(secret, mask_text(text))]

    recall = 1 - len(misses) / len(corpus)
    listing = "\n".join(f"{text!r} -> {masked!r}" for text, masked in misses)
    assert recall >= 0.99, f"recall {recall:.3f}, {len(misses)} missed:\n{listing}"


def test_precision_is_at_least_95_percent_and_every_false_positive_is_listed():
    lines = precision_corpus()
    assert len(lines) >= 150

    false_positives = [(line, mask_text(line)) for line in lines if mask_text(line) != line]

    precision = 1 - len(false_positives) / len(lines)
    listing = "\n".join(f"{line!r} -> {masked!r}" for line, masked in false_positives)
    assert precision >= 0.95, f"precision {precision:.3f}, false positives:\n{listing}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("我电话139-8765-4321", f"我电话{mask_mobile('13987654321')}"),
        ("+86 139 8765 4321", f"+86 {mask_mobile('13987654321')}"),
        ("0086-13812345678", "0086-138****5678"),
        ("１３９８７６５４３２１", "139****4321"),
        ("身份证 310101 19900307 1235", f"身份证 {mask_id_number('310101199003071235')}"),
        ("vx: zhangsan_88", f"vx: {mask_wechat_id('zhangsan_88')}"),
        ("上海市浦东新区张江路100号", mask_address("上海市浦东新区张江路100号")),
        ("卡号 6222 0212 3456 7890 128", "卡号 6222***********0128"),
    ],
)
def test_masks_keep_the_shape_of_each_kind(text, shown):
    assert mask_text(text) == shown


def test_a_wrong_check_digit_is_still_an_id_number_but_a_wrong_date_is_not():
    assert looks_like_id_number("310101199003071235")  # checksum wrong, date and region fine
    assert not looks_like_id_number("310101199013071234")  # month 13
    assert not looks_like_id_number("310101209903071234")  # born in the future
    assert not looks_like_id_number("001011199003071234")  # no such region, checksum wrong


# --- linear time by construction --------------------------------------------------------


def _repeats(parsed, inside_repeat: bool = False) -> list[str]:
    """Quantifiers found inside another quantifier (with max > 1) in a parsed pattern."""
    found = []
    for op, av in parsed:
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, _POSSESSIVE):
            low, high, sub = av
            if inside_repeat and high > 1:
                found.append(f"{op} {low},{high}")
            found.extend(_repeats(sub, inside_repeat or high > 1))
        elif op in (sre_constants.SUBPATTERN,):
            found.extend(_repeats(av[-1], inside_repeat))
        elif op == sre_constants.BRANCH:
            for branch in av[1]:
                found.extend(_repeats(branch, inside_repeat))
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            found.extend(_repeats(av[1], inside_repeat))
        elif op == _ATOMIC:
            found.extend(_repeats(av, inside_repeat))
    return found


_POSSESSIVE = getattr(sre_constants, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(sre_constants, "ATOMIC_GROUP", None)
PATTERNS = {name: value for name, value in vars(detectors).items() if isinstance(value, re.Pattern)}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_detector_pattern_nests_quantifiers(name):
    """Nested quantifiers are what makes a backtracking engine exponential on a crafted
    message; the detectors' patterns have none (digit runs are joined by a loop instead)."""
    pattern = PATTERNS[name]

    assert _repeats(sre_parse.parse(pattern.pattern, pattern.flags)) == []


def test_the_walker_would_see_a_nested_quantifier():
    assert _repeats(sre_parse.parse(r"(?:\d+[- ]?)+")) != []


@pytest.mark.parametrize(
    "adversarial",
    ["0 " * 50_000, "区" * 100_000, "0-" * 50_000, "a" * 100_000, "市路" * 50_000],
)
def test_a_100kb_adversarial_message_is_masked_whole(adversarial):
    """Runs through (the patterns are flat, see above) and changes nothing it should not."""
    assert mask_text(adversarial) == adversarial
