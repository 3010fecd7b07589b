"""Word segmentation with jieba, whose user dictionary holds the taxonomy keywords.

The tokenizer is a private ``jieba.Tokenizer`` (the global ``jieba`` one is left alone),
created on first use, not at import: loading the dictionary takes about a second. Its log
output (jieba logs every dictionary load at DEBUG to stderr) is silenced. Creation and
dictionary additions are guarded by a lock; cutting only reads the dictionary, so DuckDB may
call it from several threads (they hold the GIL while in Python anyway).
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .taxonomy import Taxonomy

_lock = threading.RLock()
_tokenizer: Any = None
_known_words: set[str] = set()
_registered_taxonomies: weakref.WeakSet = weakref.WeakSet()

# jieba only keeps words made of these characters whole (its default tokenising regex).
_JIEBA_WORD = re.compile(r"^[\u4e00-\u9fa5a-zA-Z0-9+#&._%\-]+$")
MAX_USER_WORD_LENGTH = 8


def _default_user_words() -> set[str]:
    """Keywords of the repository's default taxonomy seed plus multi-character lexicon words."""
    from .sentiment import read_lexicon_lines
    from .taxonomy import DEFAULT_SEED_PATH, Taxonomy

    words: set[str] = set()
    if DEFAULT_SEED_PATH.exists():
        words |= Taxonomy.default().user_words()
    for name in ("positive.txt", "negative.txt"):
        words.update(row[0] for row in read_lexicon_lines(name) if len(row[0]) >= 2)
    return words


def _get_tokenizer() -> Any:
    global _tokenizer
    tokenizer = _tokenizer
    if tokenizer is not None:
        return tokenizer
    with _lock:
        if _tokenizer is None:
            with warnings.catch_warnings():
                # jieba 0.42 source has invalid escape sequences (DeprecationWarning on compile).
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", SyntaxWarning)
                import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _add_words(tokenizer, _default_user_words())
            _tokenizer = tokenizer
    return _tokenizer


def _add_words(tokenizer: Any, words: Iterable[str]) -> int:
    # Sorted: jieba's suggested frequency for a new word depends on the words already added,
    # so set iteration order (which varies with PYTHONHASHSEED) would make cuts vary per run.
    added = 0
    for word in sorted(set(words)):
        if word in _known_words:
            continue
        _known_words.add(word)
        if 2 <= len(word) <= MAX_USER_WORD_LENGTH and _JIEBA_WORD.match(word):
            tokenizer.add_word(word)
            added += 1
    return added


def add_user_words(words: Iterable[str]) -> int:
    """Add words to the user dictionary (idempotent); returns how many were new."""
    tokenizer = _get_tokenizer()
    with _lock:
        return _add_words(tokenizer, words)


def ensure_taxonomy_words(taxonomy: Taxonomy | None) -> None:
    """Make sure this taxonomy's keywords are in the user dictionary (once per object)."""
    if taxonomy is None or taxonomy in _registered_taxonomies:
        return
    add_user_words(taxonomy.user_words())
    with _lock:
        _registered_taxonomies.add(taxonomy)


def segment(text: str | None, *, hmm: bool = True) -> list[str]:
    """jieba tokens of ``text`` without whitespace tokens; ``None``/empty -> ``[]``."""
    if not text:
        return []
    return [token for token in _get_tokenizer().lcut(text, HMM=hmm) if not token.isspace()]
