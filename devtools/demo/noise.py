"""The mess of real exports: timestamp and phone formats, email spelling, PII, HTML, emoji."""

from __future__ import annotations

import time

SHANGHAI_OFFSET_SECONDS = 8 * 3600
TS_STYLES = ("iso_offset", "iso_z", "naive_local", "epoch")
PHONE_STYLES = 5

EMOJI = {
    "positive": ("👍", "😊", "❤️", "🎉", "😄", "🥰", "👏", "🔥"),
    "negative": ("😡", "💔", "😭", "👎", "😤", "🤬", "😠", "🙄"),
    "neutral": ("🤔", "😅", "🙏", "😂", "🙂", "👀"),
}
ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CARD_CHECK = "10X98765432"
ID_CARD_REGIONS = ("110101", "310104", "440106", "330106", "510107", "440305", "320102", "500103")
BANK_CARD_PREFIXES = ("622202", "621700", "622848", "621483", "622588", "623058")
LANDLINE_PREFIXES = ("021", "010", "020", "0755", "0571", "028")
FULLWIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)} | {0x20: 0x3000}


def format_ts(epoch: int, style: str):
    """A UTC epoch second in one of the contract's four timestamp styles (epoch stays an int)."""
    if style == "epoch":
        return epoch
    if style == "iso_z":
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    local = time.gmtime(epoch + SHANGHAI_OFFSET_SECONDS)
    if style == "iso_offset":
        return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", local)
    return time.strftime("%Y-%m-%d %H:%M:%S", local)


def iso_local(epoch: int) -> str:
    """Canonical ISO 8601 in Asia/Shanghai, used in the truth file."""
    return format_ts(epoch, "iso_offset")


def month_key(epoch: int) -> str:
    """'YYYY-MM' of the Asia/Shanghai local date of an epoch second."""
    return time.strftime("%Y-%m", time.gmtime(epoch + SHANGHAI_OFFSET_SECONDS))


def local_date_str(epoch: int) -> str:
    """'YYYY-MM-DD' local date."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch + SHANGHAI_OFFSET_SECONDS))


class TsStyler:
    """Picks a timestamp style per field with source-specific weights."""

    def __init__(self, weights=(0.4, 0.2, 0.25, 0.15)):
        total = sum(weights)
        acc, self._cum = 0.0, []
        for w in weights:
            acc += w / total
            self._cum.append(acc)

    def __call__(self, rng, epoch: int):
        roll = rng.random()
        for style, bound in zip(TS_STYLES, self._cum):
            if roll < bound:
                return format_ts(epoch, style)
        return format_ts(epoch, "epoch")


def format_phone(phone11: str, style: int) -> str:
    """One of the five contract spellings of a mainland mobile number."""
    if style == 1:
        return f"+86 {phone11[:3]} {phone11[3:7]} {phone11[7:]}"
    if style == 2:
        return f"86-{phone11}"
    if style == 3:
        return f"{phone11[:3]}-{phone11[3:7]}-{phone11[7:]}"
    if style == 4:
        return f"(+86){phone11}"
    return phone11


def messy_phone(rng, phone11: str) -> str:
    """A random spelling of the number (plain most often)."""
    roll = rng.random()
    return format_phone(phone11, 0 if roll < 0.4 else 1 + int((roll - 0.4) / 0.15))


def messy_email(rng, email: str) -> str:
    """The email with mixed case and/or surrounding spaces (normalizes back with strip().lower())."""
    roll = rng.random()
    if roll < 0.55:
        return email
    local, _, domain = email.partition("@")
    if roll < 0.7:
        local = ".".join(part[:1].upper() + part[1:] for part in local.split("."))
    elif roll < 0.8:
        domain = domain.upper()
    elif roll < 0.85:
        local, domain = local.upper(), domain.upper()
    spaced = rng.random()
    text = f"{local}@{domain}"
    if spaced < 0.4:
        return text + " "
    if spaced < 0.6:
        return "  " + text
    if spaced < 0.75:
        return " " + text + " "
    return text


def id_card(rng) -> str:
    """An 18-digit mainland ID card number with a valid check digit."""
    year = rng.randint(1955, 2004)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    body = f"{rng.choice(ID_CARD_REGIONS)}{year:04d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
    return body + id_card_check_digit(body)


def id_card_check_digit(body17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return ID_CARD_CHECK[sum(int(c) * w for c, w in zip(body17, ID_CARD_WEIGHTS)) % 11]


def bank_card(rng) -> str:
    """A 16- or 19-digit UnionPay-looking card number that passes the Luhn check."""
    prefix = rng.choice(BANK_CARD_PREFIXES)
    length = 16 if rng.random() < 0.6 else 19
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body)


def luhn_check_digit(body: str) -> str:
    """The digit that makes body+digit pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def landline(rng) -> str:
    """A city landline like 021-64381234."""
    prefix = rng.choice(LANDLINE_PREFIXES)
    digits = 8 if len(prefix) == 3 else 7 + rng.randint(0, 1)
    return f"{prefix}-{rng.randint(2, 8)}{rng.randint(0, 10 ** (digits - 1) - 1):0{digits - 1}d}"


def to_fullwidth(text: str) -> str:
    """ASCII letters, digits, punctuation and space to their full-width forms."""
    return text.translate(FULLWIDTH)


class Decorator:
    """Adds realistic noise to a composed text. Probabilities differ by source.

    Noise never changes which tags a text carries: it only adds emoji, HTML, line breaks,
    repeated punctuation, whitespace, full-width forms and personal data (PII).
    """

    def __init__(self, *, emoji=0.15, html=0.05, linebreak=0.06, punct=0.12, pii=0.04, fullwidth=0.03, spaces=0.04):
        self.emoji, self.html, self.linebreak, self.punct = emoji, html, linebreak, punct
        self.pii, self.fullwidth, self.spaces = pii, fullwidth, spaces

    def __call__(self, rng, text: str, phone: str | None = None, email: str | None = None,
                 sentiment: str = "neutral") -> str:
        if rng.random() < self.pii:
            text = self._add_pii(rng, text, phone, email)
        if rng.random() < self.punct:
            text = text.rstrip("。！!～") + rng.choice(("！！！", "???", "。。。", "!!!", "？？", "！！！！"))
        if rng.random() < self.fullwidth:
            text = to_fullwidth(text)
        if rng.random() < self.linebreak:
            text = text.replace("，", rng.choice(("\n", "\r\n", "，\n")), 1)
        if rng.random() < self.html:
            text = self._add_html(rng, text)
        if rng.random() < self.emoji:
            pool = EMOJI[sentiment]
            emojis = "".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))
            text = text + emojis if rng.random() < 0.7 else emojis + text
        if rng.random() < self.spaces:
            text = rng.choice(("  ", " ", "\n", "\t")) + text + rng.choice((" ", "  ", "\n", ""))
        return text

    @staticmethod
    def _add_html(rng, text: str) -> str:
        roll = rng.random()
        if roll < 0.35:
            return text.replace("，", rng.choice(("<br>", "<br/>", "<br />")), 1)
        if roll < 0.55:
            return f"<p>{text}</p>"
        if roll < 0.7:
            return text.replace("，", "，&nbsp;", 1) + "&nbsp;"
        if roll < 0.8:
            return text.replace("，", " &amp; ", 1)
        if roll < 0.9:
            return f'<span style="color:red">{text}</span>'
        return text + "&#128077;"

    @staticmethod
    def _add_pii(rng, text: str, phone: str | None, email: str | None) -> str:
        roll = rng.random()
        if roll < 0.45:
            number = phone if phone else "1" + rng.choice("3578") + f"{rng.randint(0, 999_999_999):09d}"
            pii = rng.choice(("，我电话{}", "，手机号{}，麻烦回电", "，联系方式：{}", "。电话{}")).format(
                messy_phone(rng, number)
            )
        elif roll < 0.6:
            pii = rng.choice(("，身份证号{}", "，我的身份证是{}")).format(id_card(rng))
        elif roll < 0.75:
            pii = rng.choice(("，退款请打到这张卡{}", "，银行卡号{}")).format(bank_card(rng))
        elif roll < 0.9:
            address = (email or f"user{rng.randint(1000, 99999)}@163.com").strip()
            pii = rng.choice(("，邮箱{}", "，有问题发我邮箱 {} ")).format(address)
        else:
            pii = "，座机{}".format(landline(rng))
        from .pii_forms import adversarial_pii  # noqa: PLC0415 (pii_forms imports this module)

        return text + (adversarial_pii(roll, phone) or pii)
