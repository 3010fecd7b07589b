"""Phrase lookup shared by the sentiment scorer, the taxonomy tagger and the risk detector.

All three need "which known phrases occur in this clause", on short clauses and on
20,000-character texts alike. An Aho-Corasick automaton (``pyahocorasick``, C) finds every
occurrence of every phrase in one pass over the text, so the cost grows with the text and
the number of hits, not with the number of phrases; the per-character Python loop of the
first version was the largest cost of the enrichment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

import ahocorasick

T = TypeVar("T")
CLAUSE_MEMO_SIZE = 100_000  # distinct clauses remembered per memo (a few tens of MB at most)


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def ascii_boundaries_ok(text: str, start: int, end: int) -> bool:
    """True unless a phrase with Latin/digit edges sits inside a longer Latin/digit run.

    Keeps ``app`` from matching inside ``whatsapp`` and ``12315`` inside an order number
    ``O2025012315``; Chinese edges need no boundary (Chinese has no spaces between words).
    """
    if start > 0 and _is_ascii_alnum(text[start]) and _is_ascii_alnum(text[start - 1]):
        return False
    if end < len(text) and _is_ascii_alnum(text[end - 1]) and _is_ascii_alnum(text[end]):
        return False
    return True


class PhraseIndex(Generic[T]):
    """Phrases, each with a payload, found by an Aho-Corasick automaton.

    A phrase given twice keeps its last payload (like a dict).
    """

    def __init__(self, phrases: Iterable[tuple[str, T]]):
        payloads: dict[str, T] = {}
        for phrase, payload in phrases:
            if phrase:
                payloads[phrase] = payload
        self._size = len(payloads)
        self._automaton = ahocorasick.Automaton()
        for phrase, payload in payloads.items():
            # Only phrases with a Latin/digit edge need the word-edge check (most are Chinese).
            needs_check = _is_ascii_alnum(phrase[0]) or _is_ascii_alnum(phrase[-1])
            self._automaton.add_word(phrase, (phrase, payload, len(phrase), needs_check))
        if payloads:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return self._size

    def find_all(self, text: str) -> Iterator[tuple[int, str, T]]:
        """Every occurrence of every phrase, overlapping ones included: (start, phrase, payload),
        ordered by end position (then shorter first)."""
        if not self._size or not text:
            return
        for end_index, (phrase, payload, length, needs_check) in self._automaton.iter(text):
            start = end_index + 1 - length
            if not needs_check or ascii_boundaries_ok(text, start, end_index + 1):
                yield start, phrase, payload

    def longest_at(self, text: str, position: int) -> tuple[str, T] | None:
        """The longest phrase that starts at ``position`` (respecting Latin word edges)."""
        best: tuple[str, T] | None = None
        for start, phrase, payload in self.find_all(text[position:]):
            if start == 0 and (best is None or len(phrase) > len(best[0])):
                if ascii_boundaries_ok(text, position, position + len(phrase)):
                    best = (phrase, payload)
        return best

    def scan(self, text: str) -> list[tuple[int, int, str, T]]:
        """Forward maximum matching: non-overlapping (start, end, phrase, payload), left to right.

        A longer phrase wins over a shorter one starting at the same character, which is how
        ``不错`` is read as one positive word and not as negator ``不`` + ``错``.
        """
        longest: dict[int, tuple[str, T]] = {}
        for start, phrase, payload in self.find_all(text):
            current = longest.get(start)
            if current is None or len(phrase) > len(current[0]):
                longest[start] = (phrase, payload)
        found: list[tuple[int, int, str, T]] = []
        position = 0
        for start in sorted(longest):
            if start < position:
                continue
            phrase, payload = longest[start]
            end = start + len(phrase)
            found.append((start, end, phrase, payload))
            position = end
        return found


class ClauseMemo(Generic[T]):
    """A per-clause result computed once: feedback repeats its clauses far more than its whole
    texts ("物流很快", "客服态度很好" recur inside otherwise distinct texts). Bounded: when full it
    forgets everything at once, so memory stays flat however many texts pass. Callers must not
    modify a returned value."""

    def __init__(self, compute: Callable[[str], T], size: int = CLAUSE_MEMO_SIZE):
        self._compute = compute
        self._size = size
        self._results: dict[str, T] = {}

    def __call__(self, clause: str) -> T:
        result = self._results.get(clause)
        if result is None:
            if len(self._results) >= self._size:
                self._results.clear()
            result = self._results[clause] = self._compute(clause)
        return result
