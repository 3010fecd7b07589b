"""Mask personal data in free text.

Order matters, each step runs on the output of the previous one:

1. e-mail -> ``[EMAIL]`` (first: ``13800138000@163.com`` is an address, not a phone)
2. 18-digit ID card -> ``[ID]`` only with a plausible birth date and a valid ISO 7064 check
   digit (an 18-digit order number with a wrong check digit stays). Before cards and phones
   because an ID is itself a long digit run.
3. bank card, 16-19 digits (plain or in groups of four) passing the Luhn check and starting
   like a card (3/4/5/6/9: UnionPay 62, Visa, Mastercard, JCB/Amex, domestic 9xxx debit)
   -> ``[CARD]``. Order numbers starting with 1 or 2 (dates) are therefore left alone.
4. mainland mobile in every contract format (13800138000, +86 138 0013 8000,
   86-13800138000, 138-0013-8000, (+86)13800138000) -> ``138****8000``.
5. landline with area code (010-12345678, 0755-1234567, (021)12345678) -> area code kept,
   all but the last four digits masked: ``010-****5678``.

``full_redaction=True`` replaces phones by ``[PHONE]`` / ``[TEL]`` instead of keeping the first
and last digits (used for ``text_clean``, the analysis text that keeps no digits of PII).
"""

from __future__ import annotations

import re

_FULL_WIDTH_DIGITS = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"＋": "+", "－": "-"})

_ANY_DIGIT = re.compile(r"[0-9]")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")

_ID_CARD = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"

_CARD_GROUPED = re.compile(r"(?<![0-9])[0-9]{4}(?:[ \-][0-9]{4}){3}(?:[ \-][0-9]{1,3})?(?![0-9])")
_CARD_PLAIN = re.compile(r"(?<![0-9])[0-9]{16,19}(?![0-9])")
_CARD_FIRST_DIGITS = "34569"

_MOBILE = re.compile(
    r"(?<![0-9])"
    r"(?:(?:[(（]\s*(?:\+|00)?\s*86\s*[)）]|(?:\+|00)\s*86|86)[\s\-]*|0)?"  # country code or trunk 0
    r"(1[3-9][0-9])[\s\-]?([0-9]{4})[\s\-]?([0-9]{4})"
    r"(?![0-9])"
)
_LANDLINE = re.compile(
    r"(?<![0-9])"
    r"[(（]?\s*(0(?:10|2[0-9]|[3-9][0-9]{2}))\s*[)）]?[\s\-]?"
    r"([1-9][0-9]{6,7})"
    r"(?:\s*(?:-|转|ext\.?)\s*[0-9]{1,5})?"
    r"(?![0-9])"
)


def is_valid_id_card(number: str) -> bool:
    """True when an 18-character mainland ID number has a valid check digit."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11] == number[17].upper()


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by bank card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_bank_card(digits: str) -> bool:
    return 16 <= len(digits) <= 19 and digits[0] in _CARD_FIRST_DIGITS and luhn_valid(digits)


def _mask_id(match: re.Match[str]) -> str:
    return "[ID]" if is_valid_id_card(match.group(0)) else match.group(0)


def _mask_grouped_card(match: re.Match[str]) -> str:
    text = match.group(0)
    if looks_like_bank_card(re.sub(r"[ \-]", "", text)):
        return "[CARD]"
    # The optional trailing group may be a separate number ("... 7890 12元"): retry without it.
    groups = re.split(r"([ \-])", text)
    if len(groups) > 7:
        head = "".join(groups[:7])
        if looks_like_bank_card(re.sub(r"[ \-]", "", head)):
            return "[CARD]" + "".join(groups[7:])
    return text


def _mask_plain_card(match: re.Match[str]) -> str:
    return "[CARD]" if looks_like_bank_card(match.group(0)) else match.group(0)


def mask_pii(text: str | None, *, full_redaction: bool = False) -> str:
    """Mask e-mails, ID cards, bank cards, mobiles and landlines; ``None`` -> ``''``."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    text = text.translate(_FULL_WIDTH_DIGITS)
    if "@" in text:
        text = _EMAIL.sub("[EMAIL]", text)
    if _ANY_DIGIT.search(text) is None:
        return text
    text = _ID_CARD.sub(_mask_id, text)
    text = _CARD_GROUPED.sub(_mask_grouped_card, text)
    text = _CARD_PLAIN.sub(_mask_plain_card, text)
    if full_redaction:
        text = _MOBILE.sub("[PHONE]", text)
        text = _LANDLINE.sub("[TEL]", text)
    else:
        text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
        text = _LANDLINE.sub(_mask_landline, text)
    return text


def _mask_landline(match: re.Match[str]) -> str:
    area, number = match.group(1), match.group(2)
    return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
