"""The sentiment words of one clause, read with their modifiers (steps 2-4 of ``sentiment.py``).

A clause is read left to right by forward maximum matching against the lexicons in
``lexicons/`` (``lexicon_entries``: positive, negative, negations, degree, neutral, sarcasm).
Each sentiment word takes the negators, degree words and sarcasm markers found since the
previous one within ``MODIFIER_WINDOW`` characters; post-position degree words multiply the
word right before them; a positive word in quotes, or negated after it (礼貌都没有), or after
不如 turns negative. The result, ``lexicon_score``, is the clause's sum before the clause form
(``clause_forms``) and the models (``sentiment``) are considered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .lexicon_files import read_lexicon_lines
from .matching import PhraseIndex

MODIFIER_WINDOW = 4
NEGATED_POSITIVE_FACTOR = 0.8
NEGATED_NEGATIVE_FACTOR = 0.65
SOFT_NEGATION_SCALE = 0.6
CONTEXTUAL_DEGREE = {"好": 1.5}
# "好的" is an acknowledgement ("好的，谢谢": a neutral blocker), but after a degree word it is
# praise: "东西还是很好的", "服务非常好的".
DEGREE_PRAISE = {"好的": 1.0}
SARCASM_FACTOR = 1.2
# Negation after the word: "礼貌都没有", "一点效果也没有". Only after positive words (a negative
# word followed by 都没有 is rare and ambiguous).
POST_NEGATIONS = ("都没有", "也没有", "都没", "也没", "全无", "都不", "也不", "都不见")
POST_NEGATION_REACH = 4
# "没有宣传的那么好用", "没有想象中那么惊艳": a negator this many characters before the
# comparison degree word (那么/这么/那样) negates the word after it ("not as good as ...").
COMPARATIVE_NEGATION_REACH = 8
COMPARATIVE_DEGREE_WORDS = frozenset({"那么", "这么", "那样", "这样", "如此"})
# "不如上次买的好用", "效果还不如以前": praise after an inferiority word (within
# ``COMPARATIVE_NEGATION_REACH`` characters) is negated, and praise right before it is the
# compared subject (效果, 质量), not praise.
INFERIORITY_WORDS = frozenset({"不如", "比不上", "赶不上", "还不如"})
# A positive word inside quotes is sarcasm (真是"好"质量).
_OPENING_QUOTE = re.compile(r"[“\"「『‘']")
_QUOTED = re.compile(r"[“\"「『‘']([^“”\"「」『』‘’'\s]{1,8})[”\"」』’']")

# Entry kinds in the phrase index.
SENTIMENT, NEGATOR, DEGREE_PRE, DEGREE_POST, NEUTRAL, SARCASM = (
    "sentiment", "negator", "degree_pre", "degree_post", "neutral", "sarcasm",
)


@dataclass(frozen=True)
class LexiconEntry:
    kind: str
    value: float = 0.0


def lexicon_entries() -> dict[str, LexiconEntry]:
    """All scoring lexicon words with their kind and value (lower-cased)."""
    entries: dict[str, LexiconEntry] = {}
    for word, weight in read_lexicon_lines("positive.txt"):
        entries[word.lower()] = LexiconEntry(SENTIMENT, float(weight))
    for word, weight in read_lexicon_lines("negative.txt"):
        entries[word.lower()] = LexiconEntry(SENTIMENT, float(weight))
    for word, strength in read_lexicon_lines("negations.txt"):
        entries[word] = LexiconEntry(NEGATOR, float(strength))
    for word, multiplier, position in read_lexicon_lines("degree.txt"):
        kind = DEGREE_POST if position == "post" else DEGREE_PRE
        entries[word] = LexiconEntry(kind, float(multiplier))
    for (word,) in read_lexicon_lines("neutral.txt"):
        entries[word] = LexiconEntry(NEUTRAL)
    for (word,) in read_lexicon_lines("sarcasm.txt"):
        entries[word] = LexiconEntry(SARCASM)
    return entries


@lru_cache(maxsize=1)
def _index() -> PhraseIndex[LexiconEntry]:
    return PhraseIndex(lexicon_entries().items())


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    if _OPENING_QUOTE.search(text) is None:  # most clauses hold no quote: skip the span regex
        return []
    return [(m.start(1), m.end(1)) for m in _QUOTED.finditer(text)]


def score_clause_raw(text: str) -> float:
    """Unweighted, unsquashed score of one clause (sum of its modified sentiment words)."""
    return lexicon_score(text.lower())


def lexicon_score(lowered: str) -> float:
    """``score_clause_raw`` of an already lower-cased clause."""
    items = _index().scan(lowered)
    if not items:
        return 0.0
    quoted = _quoted_spans(lowered)
    total = 0.0
    modifiers: list[tuple[int, str, LexiconEntry]] = []  # (end, word, entry) since last word
    last_word_end = -1
    last_word_value = 0.0
    inferior_end = -COMPARATIVE_NEGATION_REACH - 1  # end of the last 不如
    for position, (start, end, word, entry) in enumerate(items):
        kind = entry.kind
        if kind == SENTIMENT and word in CONTEXTUAL_DEGREE and position + 1 < len(items):
            next_start, _, _, next_entry = items[position + 1]
            if next_start == end and next_entry.kind == SENTIMENT:
                kind, entry = DEGREE_PRE, LexiconEntry(DEGREE_PRE, CONTEXTUAL_DEGREE[word])
        if kind == NEUTRAL and word in DEGREE_PRAISE and modifiers and modifiers[-1][0] == start \
                and modifiers[-1][2].kind == DEGREE_PRE:
            kind, entry = SENTIMENT, LexiconEntry(SENTIMENT, DEGREE_PRAISE[word])
        if kind in (NEGATOR, DEGREE_PRE, SARCASM):
            modifiers.append((end, word, entry))
        elif kind == DEGREE_POST:
            if last_word_end == start and last_word_value:
                total += last_word_value * (entry.value - 1.0)
                last_word_value *= entry.value
        elif kind == SENTIMENT:
            value = _modified_value(entry.value, start, modifiers)
            if word in INFERIORITY_WORDS:
                if last_word_end == start and last_word_value > 0:
                    total -= last_word_value  # "效果不如以前": 效果 is what is compared
                inferior_end = end
            elif value > 0 and start - inferior_end <= COMPARATIVE_NEGATION_REACH:
                value = -value * NEGATED_POSITIVE_FACTOR  # "不如上次买的好用"
            if value > 0 and any(q_start <= start and end <= q_end for q_start, q_end in quoted):
                value = -value * SARCASM_FACTOR
            elif value > 0 and lowered.startswith(POST_NEGATIONS, end, end + POST_NEGATION_REACH):
                value = -value * NEGATED_POSITIVE_FACTOR  # "一点礼貌都没有", "效果也没有"
            total += value
            modifiers = []
            last_word_end, last_word_value = end, value
    return total


def _modified_value(value: float, start: int, modifiers: list[tuple[int, str, LexiconEntry]]) -> float:
    in_window = [(word, entry) for end, word, entry in modifiers if start - end <= MODIFIER_WINDOW]
    if not in_window:
        return value
    negators = [entry.value for _, entry in in_window if entry.kind == NEGATOR]
    if not negators and any(word in COMPARATIVE_DEGREE_WORDS for word, _ in in_window):
        # "没有宣传的那么好用": the negator sits further back, before the compared thing.
        negators = [entry.value * SOFT_NEGATION_SCALE for end, _, entry in modifiers
                    if entry.kind == NEGATOR and start - end <= COMPARATIVE_NEGATION_REACH]
    if len(negators) % 2 == 1:
        strength = min(negators)
        factor = NEGATED_POSITIVE_FACTOR if value > 0 else NEGATED_NEGATIVE_FACTOR
        if strength < 1.0:
            factor *= SOFT_NEGATION_SCALE
        value = -value * factor
    if value > 0 and any(entry.kind == SARCASM for _, entry in in_window):
        value = -value * SARCASM_FACTOR
    for _, entry in in_window:
        if entry.kind == DEGREE_PRE:
            value *= entry.value
    return value
