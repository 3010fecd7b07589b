"""Phrase lookup shared by the sentiment scorer and the taxonomy tagger.

Both need "which known phrases start at this position of the text", on short clauses and on
20,000-character texts alike. A dict from the first character to the phrases starting with it
(longest first) keeps that a couple of dictionary look-ups per character, with no dependency.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


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
    """Phrases (each with a payload) indexed by their first character, longest first."""

    def __init__(self, phrases: Iterable[tuple[str, T]]):
        by_first: dict[str, list[tuple[str, T]]] = {}
        for phrase, payload in phrases:
            if phrase:
                by_first.setdefault(phrase[0], []).append((phrase, payload))
        for candidates in by_first.values():
            candidates.sort(key=lambda item: len(item[0]), reverse=True)
        self._by_first = by_first

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_first.values())

    def longest_at(self, text: str, position: int) -> tuple[str, T] | None:
        """The longest phrase that starts at ``position`` (respecting Latin word edges)."""
        for phrase, payload in self._by_first.get(text[position], ()):
            end = position + len(phrase)
            if text.startswith(phrase, position) and ascii_boundaries_ok(text, position, end):
                return phrase, payload
        return None

    def scan(self, text: str) -> list[tuple[int, int, str, T]]:
        """Forward maximum matching: non-overlapping (start, end, phrase, payload), left to right.

        A longer phrase wins over a shorter one starting at the same character, which is how
        ``不错`` is read as one positive word and not as negator ``不`` + ``错``.
        """
        found: list[tuple[int, int, str, T]] = []
        by_first = self._by_first
        position, length = 0, len(text)
        while position < length:
            if text[position] in by_first:
                hit = self.longest_at(text, position)
                if hit is not None:
                    phrase, payload = hit
                    end = position + len(phrase)
                    found.append((position, end, phrase, payload))
                    position = end
                    continue
            position += 1
        return found

    def find_all(self, text: str) -> Iterator[tuple[int, str, T]]:
        """Every occurrence of every phrase, overlapping ones included: (start, phrase, payload)."""
        by_first = self._by_first
        for position, char in enumerate(text):
            candidates = by_first.get(char)
            if not candidates:
                continue
            for phrase, payload in candidates:
                end = position + len(phrase)
                if text.startswith(phrase, position) and ascii_boundaries_ok(text, position, end):
                    yield position, phrase, payload
