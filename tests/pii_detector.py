"""An independent, deliberately loose detector of personal data, for scanning marts and reports.

It shares no code or pattern with ``nlp_udfs.pii`` (and must never import it): a scan that uses
the masker's own rules can only confirm the masker. It is looser than the masker on purpose; a
hit is either a leak or a value that belongs on the small, explicit allow-list of the scan.

What counts as a hit, after NFKC (full-width forms) and Chinese numerals read as digits:

- ``digits``: seven or more digits with only separators between them (spaces, hyphens, dashes,
  dots, slashes, brackets, ``+``): any phone, ID, card or landline however it is grouped. Dates
  and times (``2025-06-01``, ``10:23:45``) are taken out first; they are not personal data.
- ``email``: something, ``@``/``＠``/``(at)``/``[at]``/``艾特``, something, a dot-like mark and
  letters.
- ``id``: 15 or 17 digits followed by ``X``.
- ``address``: a road, lane or estate word followed by a number and a house unit (号, 弄, 栋,
  幢, 单元, 室, 楼) or a number followed by a building unit and another number.
- ``name``: two Chinese characters right after 我叫 / 姓名 / 联系人 / 收件人 / 收货人 that are not
  a mask (``[NAME]``).
"""

from __future__ import annotations

import re
import unicodedata

_NUMERALS = str.maketrans(
    {"零": "0", "〇": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2", "贰": "2", "三": "3", "叁": "3",
     "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6", "陆": "6", "七": "7", "柒": "7", "八": "8", "捌": "8",
     "九": "9", "玖": "9"}
)
# Date shapes, even impossible ones (a quarantined 2026-13-45 is a bad date, not a phone).
_DATE = re.compile(r"(?<!\d)(?:\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}/\d{1,2}/\d{4}|\d{4}年\d{1,2}月\d{1,2}日?)(?!\d)")
_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?!\d)")
_DIGITS = re.compile(r"\d(?:[\s\-‐‑‒–—―−.·/\\()\[\]+_]{0,3}\d){6,}")
_EMAIL = re.compile(r"[\w.+\-]+\s*(?:@|\(at\)|\[at\]|艾特| at )\s*[\w\-]+(?:\s*(?:\.|。|dot)\s*[\w\-]+)*\s*(?:\.|。| dot )\s*[A-Za-z]{2,}", re.I)
_ID = re.compile(r"(?<!\d)(?:\d{17}|\d{14})[Xx](?![A-Za-z])")
_ADDRESS = re.compile(
    r"(?:路|街|道|巷|弄|里|村|苑|园|小区|花园|大厦|广场)\s*\d{1,5}\s*(?:号|弄|栋|幢|单元|室|楼|座|组)"
    r"|\d{1,4}\s*(?:栋|幢|号楼|单元)\s*\d{1,5}"
)
_NAME = re.compile(r"(?:我叫|姓名|联系人|收件人|收货人)[\s:：是为]{0,3}(?!\[)[\u4e00-\u9fff]{2}")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_NUMERALS)


def find_pii(value: str) -> list[tuple[str, str]]:
    """``(kind, matched text)`` of every hit in ``value``; empty when it looks clean."""
    text = normalize(value)
    hits = [("email", m.group(0)) for m in _EMAIL.finditer(text)]
    hits += [("id", m.group(0)) for m in _ID.finditer(text)]
    without_dates = _TIME.sub(" ", _DATE.sub(" ", text))
    hits += [("digits", m.group(0)) for m in _DIGITS.finditer(without_dates)]
    hits += [("address", m.group(0)) for m in _ADDRESS.finditer(text)]
    hits += [("name", m.group(0)) for m in _NAME.finditer(unicodedata.normalize("NFKC", value))]
    return hits
