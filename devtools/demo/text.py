"""Compose feedback texts from the phrase banks and record what was intended (tags, sentiment)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from devtools.demo.phrases import (
    ADDITIVE_JOINERS,
    CONTRAST_NEG_SECOND,
    CONTRAST_POS_SECOND,
    GENERIC_NEGATIVE,
    GENERIC_POSITIVE,
    NEUTRAL_FILLERS,
    NEUTRAL_TEXTS,
    PHRASE_BANK,
    fill_placeholders,
)

POLARITY_KEY = {"negative": "neg", "positive": "pos", "neutral": "neu"}
POLARITY_SIGN = {"neg": "-", "pos": "+", "neu": "0"}
ENDINGS = ("", "", "。", "！", "!", "～")


@dataclass(slots=True)
class Composed:
    """A composed text plus the tags (order of appearance) and polarity signs it was built from."""

    text: str
    sentiment: str
    tags: list[str] = field(default_factory=list)
    signs: list[str] = field(default_factory=list)

    def add(self, other: "Composed") -> None:
        """Merge the tags of another composed text (used when a record holds several texts)."""
        for tag, sign in zip(other.tags, other.signs):
            if tag not in self.tags:
                self.tags.append(tag)
                self.signs.append(sign)


class TagSampler:
    """Weighted choice of a tag for a polarity, from per-tag weights."""

    def __init__(self, weights: dict[str, float]):
        self._by_polarity: dict[str, tuple[list[str], list[float]]] = {}
        for key in ("neg", "pos", "neu"):
            tags = [t for t, w in weights.items() if w > 0 and PHRASE_BANK[t].get(key)]
            self._by_polarity[key] = (tags, list(accumulate(weights[t] for t in tags)))

    def has(self, key: str) -> bool:
        """True when some tag has phrases of this polarity key."""
        return bool(self._by_polarity[key][0])

    def pick(self, rng, key: str, exclude: str | None = None) -> str | None:
        """A tag for polarity key ('neg'/'pos'/'neu'), avoiding `exclude` when possible."""
        tags, cum = self._by_polarity[key]
        if not tags:
            return None
        for _ in range(4):
            tag = tags[bisect_right(cum, rng.random() * cum[-1])]
            if tag != exclude or len(tags) == 1:
                return tag
        return tag


def phrase(rng, tag: str, key: str) -> str:
    """One filled phrase of a tag for polarity key."""
    return fill_placeholders(rng.choice(PHRASE_BANK[tag][key]), rng)


def compose(rng, sampler: TagSampler, sentiment: str, primary: str | tuple[str, str] | None = None) -> Composed:
    """A 1-3 clause text with the intended overall sentiment.

    Contrast texts ("虽然A，但是B") put the dominant polarity in the clause after the contrast word,
    so the intended sentiment is always the polarity of the primary clause. A (primary, secondary)
    pair of tags (a planted co-occurrence, Scenario.adjust) gives a two-clause text about both.
    """
    if isinstance(primary, tuple):
        return _compose_pair(rng, sentiment, *primary)
    if sentiment == "neutral":
        return _compose_neutral(rng, sampler, primary)
    key = POLARITY_KEY[sentiment]
    other = "pos" if key == "neg" else "neg"
    if primary is None or not PHRASE_BANK[primary].get(key):
        primary = sampler.pick(rng, key)
    result = Composed("", sentiment)
    pieces: list[str] = []
    if rng.random() < 0.18:
        pieces.append(rng.choice(NEUTRAL_FILLERS) + "，")
    roll = rng.random()
    if roll < 0.45:
        _append_clause(rng, result, pieces, primary, key)
    elif roll < 0.70:
        _append_clause(rng, result, pieces, primary, key)
        second = sampler.pick(rng, key, exclude=primary)
        pieces.append(rng.choice(ADDITIVE_JOINERS))
        _append_clause(rng, result, pieces, second, key)
    elif roll < 0.95:
        minor = sampler.pick(rng, other, exclude=primary)
        if minor is None or minor == primary:
            _append_clause(rng, result, pieces, primary, key)
        else:
            prefix, joiner = rng.choice(CONTRAST_NEG_SECOND if key == "neg" else CONTRAST_POS_SECOND)
            pieces.append(prefix)
            _append_clause(rng, result, pieces, minor, other)
            pieces.append(joiner)
            _append_clause(rng, result, pieces, primary, key)
    else:
        _append_clause(rng, result, pieces, primary, key)
        second = sampler.pick(rng, key, exclude=primary)
        pieces.append("，")
        _append_clause(rng, result, pieces, second, key)
        pieces.append("，" + rng.choice(GENERIC_NEGATIVE if key == "neg" else GENERIC_POSITIVE))
    if rng.random() < 0.22:
        pieces.append("。" + rng.choice(GENERIC_NEGATIVE if key == "neg" else GENERIC_POSITIVE))
    else:
        pieces.append(rng.choice(ENDINGS))
    result.text = "".join(pieces)
    return result


def _compose_pair(rng, sentiment: str, primary: str, secondary: str) -> Composed:
    """Two clauses of the same polarity, about the primary tag and then the secondary one."""
    key = POLARITY_KEY[sentiment]
    result = Composed("", sentiment)
    pieces: list[str] = []
    for tag in (primary, secondary):
        if pieces:
            pieces.append(rng.choice(ADDITIVE_JOINERS))
        if PHRASE_BANK[tag].get(key):
            _append_clause(rng, result, pieces, tag, key)
    pieces.append(rng.choice(ENDINGS))
    result.text = "".join(pieces)
    return result


def compose_generic(rng, sentiment: str) -> Composed:
    """A short text with sentiment but without any tag (好评！, 太失望了)."""
    if sentiment == "positive":
        return Composed(rng.choice(GENERIC_POSITIVE), sentiment)
    if sentiment == "negative":
        return Composed(rng.choice(GENERIC_NEGATIVE), sentiment)
    return Composed(rng.choice(NEUTRAL_TEXTS), "neutral")


def _compose_neutral(rng, sampler: TagSampler, primary: str | None) -> Composed:
    if primary is not None and PHRASE_BANK[primary].get("neu"):
        tag = primary
    elif rng.random() < 0.35 and sampler.has("neu"):
        tag = sampler.pick(rng, "neu")
    else:
        text = rng.choice(NEUTRAL_TEXTS)
        if rng.random() < 0.3:
            text = rng.choice(NEUTRAL_FILLERS) + "，" + text
        return Composed(text, "neutral")
    result = Composed("", "neutral")
    pieces: list[str] = []
    if rng.random() < 0.3:
        pieces.append(rng.choice(NEUTRAL_FILLERS) + "，")
    _append_clause(rng, result, pieces, tag, "neu")
    pieces.append(rng.choice(("？", "?", "", "。")))
    result.text = "".join(pieces)
    return result


def _append_clause(rng, result: Composed, pieces: list[str], tag: str, key: str) -> None:
    pieces.append(phrase(rng, tag, key))
    if tag not in result.tags:
        result.tags.append(tag)
        result.signs.append(POLARITY_SIGN[key])


def long_text(rng, sampler: TagSampler, sentiment: str, max_chars: int = 19_900) -> Composed:
    """A rant of about `max_chars` characters (never more), built from whole composed texts."""
    total = Composed("", sentiment)
    chunks: list[str] = []
    size = 0
    primary = sampler.pick(rng, POLARITY_KEY[sentiment]) if sentiment != "neutral" else None
    while True:
        piece = compose(rng, sampler, sentiment, primary=primary)
        addition = piece.text + ("\n" if len(chunks) % 5 == 4 else "")
        if size + len(addition) > max_chars:
            break
        chunks.append(addition)
        size += len(addition)
        total.add(piece)
    total.text = "".join(chunks)
    return total
