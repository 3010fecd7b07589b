"""Personal data written the ways customers really write it (issue 14), for the demo texts.

The demo's plain PII (``13800138000``, a valid ID, a Luhn card) is easy to mask; real feedback
also holds phones grouped 4-3-4 or dictated in Chinese numerals, IDs with spaces or a wrong check
digit, cards that fail Luhn, ``a @ qq。com``, landlines, street addresses and names. A share of
the PII the decorator adds takes one of these forms, so that the end-to-end scan of the marts
(tests/pii_detector.py) has something to find if the masker lets it through.

The clauses avoid taxonomy keywords (退款, 取件, 电话 ...), so they add no tag to the ground
truth. Determinism without touching the generator's random stream: the caller passes a value it has
already drawn (``seed``), and the form is chosen by a private ``random.Random`` seeded from it.
"""

from __future__ import annotations

import random

from .noise import bank_card, id_card, landline

SHARE = 0.5
"""Share of the decorator's PII insertions written in an adversarial form."""

_NUMERALS = ("零一二三四五六七八九", "〇幺二三四五六七八九", "零壹贰叁肆伍陆柒捌玖")
_SEPARATORS = (" ", "-", ".", "/", "–", "—", "　", " - ", "－")
_FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x30, 0x3A)}

_SURNAMES = ("赵", "钱", "孙", "周", "吴", "郑", "冯", "陈", "褚", "蒋", "沈", "韩", "欧阳", "上官")
_GIVEN = ("子涵", "浩然", "雨桐", "一鸣", "思远", "佳怡", "明轩", "若曦", "俊杰", "梓萱", "秀英", "建华")
_NAME_LEADS = ("，我叫{}", "，联系人：{}", "，收件人{}", "，姓名 {}", "，收货人是{}")

_CITIES = (("浙江省", "宁波市", "鄞州区"), ("", "苏州市", "工业园区"), ("四川省", "绵阳市", "涪城区"),
           ("", "重庆市", "渝北区"), ("湖北省", "武汉市", "洪山区"), ("", "天津市", "南开区"))
_ROADS = ("学府路", "临江大道", "振华街", "青年路", "滨河东路", "长乐巷")
_ESTATES = ("翠湖小区", "锦绣花园", "阳光家园", "和平里", "金桂苑")
_ADDRESS_LEADS = ("，寄到{}", "，收货地址：{}", "，我住{}，周末在家", "，地址写的{}")


def _spell(digits: str, rng: random.Random) -> str:
    """Digits in Chinese numerals (one of three styles), sometimes only some of them."""
    numerals = rng.choice(_NUMERALS)
    mixed = rng.random() < 0.3
    return "".join(numerals[int(d)] if not mixed or i % 2 else d for i, d in enumerate(digits))


def _group(digits: str, sizes: tuple[int, ...], separator: str) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(digits[start:start + size])
        start += size
    if start < len(digits):
        parts.append(digits[start:])
    return separator.join(parts)


def written_phone(phone11: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.25:
        return _spell(phone11, rng)
    if roll < 0.35:
        return phone11.translate(_FULL_WIDTH)
    sizes = rng.choice(((4, 3, 4), (3, 3, 5), (3, 4, 4)))
    grouped = _group(phone11, sizes, rng.choice(_SEPARATORS))
    return rng.choice(("", "", "+86 ", "0086-", "(+86)")) + grouped


def written_id(rng: random.Random) -> str:
    number = id_card(rng)
    roll = rng.random()
    if roll < 0.3:  # a wrong check digit
        number = number[:17] + str((int(number[17]) + 1) % 10 if number[17].isdigit() else 3)
    elif roll < 0.45:  # the old 15-digit form: no century, no check digit
        number = number[:6] + number[8:17]
    sizes = rng.choice(((6, 8, 4), (6, 4, 4, 4), (4, 4, 4, 4), (18,)))
    return _group(number, sizes, rng.choice((" ", "-", "　")))


def written_card(rng: random.Random) -> str:
    number = bank_card(rng)
    if rng.random() < 0.5:  # mistyped: fails the Luhn check
        number = number[:-1] + str((int(number[-1]) + 3) % 10)
    return _group(number, (4, 4, 4, 4), rng.choice((" ", "-", "  ", "－")))


def written_email(rng: random.Random) -> str:
    local = rng.choice(("chen.yu", "kk_2019", "zhouxm", "574310829", "lucky.star"))
    domain, tld = rng.choice((("qq", "com"), ("163", "com"), ("sina", "cn"), ("outlook", "com")))
    at = rng.choice((" @ ", "＠", "@", "(at)", "[at]"))
    dot = rng.choice((".", "。", "．", " dot "))
    return f"{local}{at}{domain}{dot}{tld}"


def written_landline(rng: random.Random) -> str:
    area, _, number = landline(rng).partition("-")
    roll = rng.random()
    if roll < 0.4:
        return f"{area} {number[:4]} {number[4:]}"
    if roll < 0.7:
        return f"({area}){number[:-4]}-{number[-4:]}"
    return f"{area}—{number} 转 {rng.randint(100, 899)}"


def written_address(rng: random.Random) -> str:
    province, city, district = rng.choice(_CITIES)
    head = (province if rng.random() < 0.5 else "") + city + district
    if rng.random() < 0.5:
        return f"{head}{rng.choice(_ROADS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(101, 2804)}室"
    return f"{head}{rng.choice(_ESTATES)}{rng.randint(1, 40)}幢{rng.randint(101, 1806)}"


def written_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + rng.choice(_GIVEN)[: rng.choice((1, 2))]


def adversarial_pii(seed: float, phone11: str | None) -> str | None:
    """One clause with personal data in a hard-to-mask written form, chosen by ``seed``; None
    for the ``1 - SHARE`` of seeds that keep the decorator's plain form."""
    rng = random.Random(seed)
    if rng.random() >= SHARE:
        return None
    roll = rng.random()
    if roll < 0.3:
        number = phone11 or "1" + rng.choice("3578") + f"{rng.randint(0, 999_999_999):09d}"
        return rng.choice(("，号码{}", "，手机 {} 微信同号", "，打{}找我")).format(written_phone(number, rng))
    if roll < 0.42:
        return rng.choice(("，证件号{}", "，我的证件号码：{}")).format(written_id(rng))
    if roll < 0.52:
        return rng.choice(("，钱打到 {}", "，银行卡：{}")).format(written_card(rng))
    if roll < 0.62:
        return rng.choice(("，邮箱 {}", "，发我邮件{}")).format(written_email(rng))
    if roll < 0.72:
        return rng.choice(("，座机{}", "，办公室座机 {}")).format(written_landline(rng))
    if roll < 0.86:
        return rng.choice(_ADDRESS_LEADS).format(written_address(rng))
    return rng.choice(_NAME_LEADS).format(written_name(rng))
