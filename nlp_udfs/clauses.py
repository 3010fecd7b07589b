"""Split Chinese feedback into clauses, remembering contrast and concession.

Sentiment and tags are decided per clause: "物流挺快的,但是包装破了" is positive about
delivery speed and negative about packaging. Customers often skip the comma
("物流快但是包装破了"), so strong contrast words also split a clause in the middle.

Contrast markers are grammar, not domain vocabulary, so they live here and not in a lexicon
file. Roles:

- ``contrast``: the clause starts with 但是/但/可是/不过/然而/却/就是/只是/... ; what follows a
  contrast marker (or 结果, "as it turned out") is what the customer means, so the sentiment scorer weighs it more and the
  clauses before it less.
- ``concession``: the clause holds 虽然/尽管/虽说 ("although ..."), a false expectation
  (以为/本来), a first impression (一开始/刚开始/看着) or an earlier time (以前/上次/第一次, not
  inside a comparison: 比以前) near its start, weighed less.
- a clause that starts with the present or what came after (现在/这次/后来/结果) after a
  concession is a ``contrast`` ("以前挺好的，现在不行了").
- ``plain``: anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Sentence punctuation (full- and half-width), line breaks, and whitespace next to Chinese.
# "、" (enumeration comma) does not split: "物流、包装都很好" is one statement.
# A "." between two digits (3.5) and "," between digits (1,299) do not split.
_BOUNDARY = re.compile(
    r"[，。！？；;!?~～…\n\r\t]+"
    r"|(?<![0-9]),|,(?![0-9])"
    r"|(?<![0-9])\.|\.(?![0-9])"
    r"|(?<=[\u4e00-\u9fff])\s+|\s+(?=[\u4e00-\u9fff])"
)

# Markers that may also start a new clause in the middle of a comma-less sentence.
# Look-arounds avoid the common false friends: 不但 (not only), 但愿 (hopefully), 但凡 (as
# long as), 不过如此 (nothing special), 冷却 / 忘却 (words containing 却).
_MID_CLAUSE_CONTRAST = re.compile(
    r"(?<!不)但是|(?<!不)但(?![是愿凡])|可是|然而|(?<!只)不过(?!如此)|(?<![冷忘退])却"
)
# Markers that only count at the start of a clause ("就是" inside a clause is usually
# emphasis: "就是慢").
# 结果 ("as it turned out": "说是真皮，结果是人造革") introduces what actually happened.
_START_CONTRAST = (
    "但是", "但", "可是", "然而", "不过", "却", "就是", "只是", "只不过", "偏偏", "可惜", "无奈", "结果",
)
# Besides "although", a false expectation (以为会很难用, 本来不抱希望) and a first impression that
# later changed (一开始挺好用的) are outweighed by what follows.
_CONCESSION = (
    "虽然", "虽说", "虽", "尽管", "以为", "本来", "原本", "一开始", "刚开始", "起初",
    # a first look or an earlier time that the rest of the text revises ("看着挺好，用起来不行",
    # "第一次买还不错，这次质量明显下降")
    "看着", "看起来", "看上去", "乍一看", "以前", "之前", "上次", "第一次",
)
# A concession marker counts within the first characters of a clause ("价格虽然贵了点").
_CONCESSION_REACH = 6
_CONCESSION_PATTERN = re.compile("|".join(map(re.escape, _CONCESSION)))
# An earlier time inside a comparison ("比以前好多了", "跟上次买的一样") concedes nothing.
_EARLIER_TIMES = frozenset({"以前", "之前", "上次", "第一次"})
_COMPARED_WITH = frozenset("比跟和同像如于")
_MIN_CHARS_BEFORE_MID_SPLIT = 2


@dataclass(frozen=True)
class Clause:
    """One clause of a text: its text, where it starts in the text, and its role."""

    text: str
    start: int
    role: str  # "plain" | "contrast" | "concession"


def _role_of(text: str) -> str:
    if text.startswith(_START_CONTRAST):
        return "contrast"
    match = _CONCESSION_PATTERN.search(text, 0, _CONCESSION_REACH)
    if match is None:
        return "plain"
    if match.group() in _EARLIER_TIMES and match.start() > 0 and text[match.start() - 1] in _COMPARED_WITH:
        return "plain"
    return "concession"


def _split_mid_clause(segment: str, offset: int) -> list[tuple[str, int]]:
    if _MID_CLAUSE_CONTRAST.search(segment, _MIN_CHARS_BEFORE_MID_SPLIT) is None:
        return [(segment, offset)]  # the common case: no contrast word to cut at
    pieces: list[tuple[str, int]] = []
    last = 0
    for match in _MID_CLAUSE_CONTRAST.finditer(segment):
        cut = match.start()
        if cut - last >= _MIN_CHARS_BEFORE_MID_SPLIT:
            pieces.append((segment[last:cut], offset + last))
            last = cut
    pieces.append((segment[last:], offset + last))
    return pieces


# After a concession, a clause that starts with the present ("以前挺好的，现在不行了", "第一次买还不错，
# 这次质量明显下降") is the turn: a contrast. Without a concession before it, 现在 is just time.
_TURN_AFTER_CONCESSION = ("现在", "这次", "这回", "后来", "如今", "结果")


def _turns_after_concession(clauses: list[Clause]) -> list[Clause]:
    conceded = False
    for index, clause in enumerate(clauses):
        if clause.role == "concession":
            conceded = True
        elif conceded and clause.role == "plain" and clause.text.startswith(_TURN_AFTER_CONCESSION):
            clauses[index] = Clause(clause.text, clause.start, "contrast")
    return clauses


def split_clauses(text: str | None) -> list[Clause]:
    """Split ``text`` into non-empty clauses (in order), each with its role."""
    if not text:
        return []
    clauses: list[Clause] = []
    last = 0
    bounds = [(m.start(), m.end()) for m in _BOUNDARY.finditer(text)]
    bounds.append((len(text), len(text)))
    for start, end in bounds:
        segment = text[last:start]
        seg_offset = last
        last = end
        stripped = segment.strip()
        if not stripped:
            continue
        seg_offset += len(segment) - len(segment.lstrip())
        for piece, piece_offset in _split_mid_clause(stripped, seg_offset):
            piece_stripped = piece.strip()
            if piece_stripped:
                clauses.append(Clause(piece_stripped, piece_offset, _role_of(piece_stripped)))
    if len(clauses) > 1:
        return _turns_after_concession(clauses)
    return clauses
