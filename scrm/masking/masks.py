"""Mask functions, one per kind of sensitive value. Each keeps just enough to recognise a value."""

import re

# Two-character Chinese surnames keep both characters visible (欧阳**).
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳 太史 端木 上官 司马 东方 独孤 南宫 万俟 闻人 夏侯 诸葛 尉迟 公羊 赫连 澹台 "
        "皇甫 宗政 濮阳 公冶 太叔 申屠 公孙 慕容 仲孙 钟离 长孙 宇文 司徒 鲜于 司空 闾丘 "
        "子车 亓官 司寇 巫马 公西 颛孙 壤驷 公良 漆雕 乐正 宰父 谷梁 拓跋 夹谷 轩辕 令狐 "
        "段干 百里 呼延 东郭 南门 羊舌 微生 公户 公玉 公仪 梁丘 公仲 公上 公门 公山 公坚 "
        "左丘 公伯 西门 公祖 第五 公乘 贯丘 公皙 南荣 东里 东宫 仲长 子书 子桑 即墨 达奚 "
        "褚师"
    ).split()
)
# An autonomous region or SAR ends in 区 too: the district is the 区/县/旗 after it.
_ADDRESS_DISTRICT = re.compile(r"^(?:.*?(?:自治区|特别行政区))?.*?(?:区|县|旗)")
_ADDRESS_CITY = re.compile(r"^.*?市")


def mask_mobile(value: str) -> str:
    digits = value.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(value: str) -> str:
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return mask_generic(value)
    return f"{local[:1]}***@{domain}"


def mask_wechat_id(value: str) -> str:
    if len(value) <= 4:
        return value[:1] + "***"
    return f"{value[:2]}***{value[-2:]}"


def mask_name(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    if value.isascii():
        first, *rest = value.split()
        return " ".join([first[:1] + "*" * (len(first) - 1), *("*" * len(word) for word in rest)])
    surname_length = 2 if value[:2] in COMPOUND_SURNAMES and len(value) > 2 else 1
    return value[:surname_length] + "*" * (len(value) - surname_length)


def mask_address(value: str) -> str:
    """Keep the district (or county), drop the street and number."""
    match = _ADDRESS_DISTRICT.match(value) or _ADDRESS_CITY.match(value)
    if match:
        return match.group(0) + "***"
    return "***"


def mask_generic(value: str) -> str:
    if len(value) <= 2:
        return "*" * len(value)
    return f"{value[:1]}***{value[-1:]}"
