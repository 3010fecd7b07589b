"""Judge one masking result against a labelled PII row (pure functions, no I/O).

A row is ``(kind, text, pii)``: ``pii`` is the exact substring of ``text`` that must be masked,
empty when ``kind == "near_miss"``. ``judge(kind, text, pii, masked)`` says whether the masker did
the right thing with that row:

* digit kinds (``phone``, ``id_card``, ``card``, ``landline``): caught when no run of
  ``DIGIT_RUN`` (5) consecutive digits of the PII survives in the masked text. Both sides are read
  through ``normalize`` (NFKC, so full-width digits count, and Chinese numerals 一/幺/壹… read as
  digits); on the PII side every digit counts (``X`` of an ID does not), on the masked side a run
  is a sequence of digits with only separators between them (``SEPARATORS``: spaces, hyphens and
  dashes, dots, slashes, brackets, ``+``, commas, colons). ``138****8000`` is caught;
  ``138 0013 ****`` is not (``13800`` survives).
* ``email``: caught when the local part (before ``@``/``＠``/``at``/``[at]``/``(at)``, compared
  case-insensitively and without spaces) no longer appears in the masked text.
* ``address``: the identifying part is the PII after its leading administrative divisions
  (province, city, district, county: ``上海市浦东新区`` in ``上海市浦东新区张江路123弄4号602室``).
  Caught when no ``ADDRESS_WINDOW`` (5) consecutive characters of that part survive (spaces
  ignored). Keeping ``上海市浦东新区`` or the bare road name is fine; keeping ``张江路123弄`` is not.
* ``name``: caught when no two consecutive characters of the name survive, except a compound
  surname on its own (``欧阳``). ``张*``/``张**``/``欧阳**`` are caught; ``*晓燕`` is not.
* ``near_miss``: right when the masker left the text exactly as it was.

``score`` runs a masking function over rows and counts, per kind, how many it got right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

KINDS = ("phone", "id_card", "card", "email", "landline", "address", "name", "near_miss")
DIGIT_KINDS = frozenset({"phone", "id_card", "card", "landline"})
DIGIT_RUN = 5
ADDRESS_WINDOW = 5

# Chinese numerals as people dictate numbers (幺 for 1, 两 for 2, financial forms 壹贰叁).
_NUMERALS = {
    "零": "0", "〇": "0", "洞": "0",
    "一": "1", "幺": "1", "壹": "1",
    "二": "2", "两": "2", "貳": "2", "贰": "2",
    "三": "3", "叁": "3", "參": "3", "叄": "3",
    "四": "4", "肆": "4",
    "五": "5", "伍": "5",
    "六": "6", "陆": "6", "陸": "6",
    "七": "7", "柒": "7",
    "八": "8", "捌": "8",
    "九": "9", "玖": "9",
}  # fmt: skip
_NUMERAL_TABLE = str.maketrans(_NUMERALS)
# What may sit between two digits of one number (after NFKC: full-width forms are ASCII here).
SEPARATORS = frozenset(" \t\u00a0-‐‑‒–—―−_.·•/\\()[]{}（）【】+,，、:：;；")

_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 独孤 南宫 西门 端木 钟离 呼延 赫连 澹台 申屠".split()
)
_EMAIL_AT = re.compile(r"\s*(?:@|\[\s*at\s*\]|\(\s*at\s*\)|\{\s*at\s*\}|<\s*at\s*>|\bat\b|艾特|圈a)\s*", re.IGNORECASE)
# One administrative division at the start of an address: 2-8 characters ending in a division
# suffix; 小区/园区/社区/校区 are housing estates or campuses, part of the identifying detail.
_ADMIN_PREFIX = re.compile(r"^[\u4e00-\u9fff]{1,8}?(?:特别行政区|自治区|自治州|自治县|省|市|地区|盟|(?<![小园社校景])区|县|旗)")


def normalize(text: str) -> str:
    """NFKC (full-width digits, ＠, ．, full-width space become ASCII) and Chinese numerals as digits."""
    return unicodedata.normalize("NFKC", text).translate(_NUMERAL_TABLE)


def digit_runs(text: str) -> list[str]:
    """The numbers in ``text``: digit sequences with only ``SEPARATORS`` between their digits."""
    runs: list[str] = []
    current: list[str] = []
    for ch in normalize(text):
        if ch.isascii() and ch.isdigit():
            current.append(ch)
        elif ch in SEPARATORS:
            continue  # a separator neither ends nor extends a number
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def pii_digits(pii: str) -> str:
    """Every digit of the PII in order (Chinese numerals and full-width digits included)."""
    return "".join(ch for ch in normalize(pii) if ch.isascii() and ch.isdigit())


def _windows(s: str, width: int) -> set[str]:
    return {s[i : i + width] for i in range(len(s) - width + 1)}


def digits_leak(pii: str, masked: str, run: int = DIGIT_RUN) -> bool:
    """True when ``run`` consecutive digits of ``pii`` appear inside one number of ``masked``."""
    wanted = _windows(pii_digits(pii), run)
    if not wanted:
        raise ValueError(f"PII has fewer than {run} digits: {pii!r}")
    return any(wanted & _windows(found, run) for found in digit_runs(masked))


def email_local_part(pii: str) -> str:
    """The local part of an email as written (``a.b @ qq.com``, ``abc[at]163.com``, ``x＠y．com``)."""
    text = unicodedata.normalize("NFKC", pii)
    parts = _EMAIL_AT.split(text, maxsplit=1)
    if len(parts) < 2 or not parts[0].strip():
        raise ValueError(f"no local part found in {pii!r}")
    return re.sub(r"\s+", "", parts[0]).lower()


def email_leaks(pii: str, masked: str) -> bool:
    squeezed = re.sub(r"\s+", "", unicodedata.normalize("NFKC", masked)).lower()
    return email_local_part(pii) in squeezed


def address_detail(pii: str) -> str:
    """The address without its leading administrative divisions (the street, number, building, room)."""
    rest = re.sub(r"\s+", "", unicodedata.normalize("NFKC", pii))
    while True:
        m = _ADMIN_PREFIX.match(rest)
        if not m or m.end() == len(rest):
            break
        rest = rest[m.end() :]
    return rest


def address_leaks(pii: str, masked: str, width: int = ADDRESS_WINDOW) -> bool:
    detail = address_detail(pii)
    if len(detail) < width:
        raise ValueError(f"address detail shorter than {width} characters: {pii!r}")
    squeezed = re.sub(r"\s+", "", unicodedata.normalize("NFKC", masked))
    return any(w in squeezed for w in _windows(detail, width))


def name_leaks(pii: str, masked: str) -> bool:
    name = pii.strip()
    if len(name) < 2:
        raise ValueError(f"name shorter than two characters: {pii!r}")
    pairs = _windows(name, 2) - _COMPOUND_SURNAMES
    if not pairs:
        raise ValueError(f"name is only a surname: {pii!r}")
    return any(p in masked for p in pairs)


def judge(kind: str, text: str, pii: str, masked: str) -> bool:
    """True when the masker handled the row right: PII caught, or a near-miss left unchanged."""
    if kind == "near_miss":
        if pii:
            raise ValueError("a near_miss row has no PII")
        return masked == text
    if not pii or pii not in text:
        raise ValueError(f"PII {pii!r} is not a substring of the text")
    if kind in DIGIT_KINDS:
        return not digits_leak(pii, masked)
    if kind == "email":
        return not email_leaks(pii, masked)
    if kind == "address":
        return not address_leaks(pii, masked)
    if kind == "name":
        return not name_leaks(pii, masked)
    raise ValueError(f"unknown kind {kind!r}")


@dataclass
class Score:
    """Per-kind counts: for PII kinds ``right`` = caught, for near_miss ``right`` = left unchanged."""

    right: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    wrong_ids: dict[str, list[str]] = field(default_factory=dict)

    def rate(self, kind: str) -> float:
        return self.right.get(kind, 0) / self.total[kind] if self.total.get(kind) else 0.0

    @property
    def pii_recall(self) -> float:
        """Caught PII rows over all PII rows (every kind but near_miss)."""
        kinds = [k for k in self.total if k != "near_miss"]
        total = sum(self.total[k] for k in kinds)
        return sum(self.right.get(k, 0) for k in kinds) / total if total else 0.0

    @property
    def near_miss_changed(self) -> float:
        """Share of near-miss rows the masker changed (lower is better)."""
        return 1.0 - self.rate("near_miss") if self.total.get("near_miss") else 0.0


def score(rows: Iterable[Mapping[str, str]], mask: Callable[[str], str]) -> Score:
    """Mask each row's text with ``mask`` and judge it; rows are dicts with id, kind, text, pii."""
    result = Score()
    for row in rows:
        kind = row["kind"]
        ok = judge(kind, row["text"], row["pii"], mask(row["text"]))
        result.total[kind] = result.total.get(kind, 0) + 1
        result.right[kind] = result.right.get(kind, 0) + int(ok)
        if not ok:
            result.wrong_ids.setdefault(kind, []).append(row["id"])
    return result
