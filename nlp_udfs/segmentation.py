"""Word segmentation with jieba's dictionary plus a user dictionary of the taxonomy keywords.

Two interchangeable backends read the same dictionary format:

- ``rjieba`` (default): the Rust jieba-rs port, about 30x faster than Python jieba; on the
  demo texts its tokens agree with jieba's for ~99% of texts (``make bench`` measures it).
- ``jieba``: the reference Python implementation, chosen with ``NlpConfig(segmenter="jieba")``.

The tokenizer is private (the global ``jieba``/``rjieba`` ones are left alone) and created on
first use, not at import. Its user dictionary is the multi-character lexicon words plus the
keywords of the first taxonomy it serves, added together in sorted order (jieba's suggested
frequency of a new word depends on the words added before it, so the order is part of the
result); keywords of later taxonomies are added when they first arrive. ``preload`` loads
jieba's own dictionary ahead of that, for a worker that waits for its first batch. jieba's log output (every dictionary load at DEBUG) is silenced.
Creation and dictionary additions are guarded by a lock; cutting only reads the dictionary.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .config import BACKENDS, current  # noqa: F401 - BACKENDS re-exported

if TYPE_CHECKING:
    from .taxonomy import Taxonomy

_lock = threading.RLock()
_tokenizer: Any = None
_preloaded: Any = None  # jieba's dictionary loaded, no user words yet
_known_words: set[str] = set()
_registered_taxonomies: weakref.WeakSet = weakref.WeakSet()

# jieba only keeps words made of these characters whole (its default tokenising regex).
_JIEBA_WORD = re.compile(r"^[\u4e00-\u9fa5a-zA-Z0-9+#&._%\-]+$")
MAX_USER_WORD_LENGTH = 8
def backend_name() -> str:
    """The configured backend (``NlpConfig.segmenter``, default ``rjieba``)."""
    return current().segmenter


class _RjiebaTokenizer:
    """rjieba behind jieba's ``lcut``/``add_word`` names."""

    def __init__(self) -> None:
        import rjieba

        self._jieba = rjieba.Jieba()

    def lcut(self, text: str, HMM: bool = True) -> list[str]:  # noqa: N803 - jieba's parameter name
        return self._jieba.cut(text, HMM)

    def add_word(self, word: str) -> None:
        self._jieba.add_word(word, None, None)


def new_tokenizer(backend: str) -> Any:
    """A fresh tokenizer of ``backend`` with jieba's default dictionary loaded."""
    if backend == "rjieba":
        return _RjiebaTokenizer()
    with warnings.catch_warnings():
        # jieba 0.42 source has invalid escape sequences (DeprecationWarning on compile).
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def base_user_words() -> set[str]:
    """The multi-character words of the sentiment lexicons (every tokenizer has them)."""
    from .lexicon_files import read_lexicon_lines

    words: set[str] = set()
    for name in ("positive.txt", "negative.txt"):
        words.update(row[0] for row in read_lexicon_lines(name) if len(row[0]) >= 2)
    return words


def preload() -> None:
    """Load jieba's dictionary now (it takes a second or so); user words come with first use."""
    global _preloaded
    with _lock:
        if _tokenizer is None and _preloaded is None:
            _preloaded = new_tokenizer(backend_name())


def reset() -> None:
    """Forget the tokenizer and its user dictionary (after a change of configuration)."""
    global _tokenizer, _preloaded
    with _lock:
        _tokenizer = None
        _preloaded = None
        _known_words.clear()
        _registered_taxonomies.clear()


def _get_tokenizer(taxonomy: Taxonomy | None = None) -> Any:
    """The tokenizer; created on first use with the lexicon words and ``taxonomy``'s keywords."""
    global _tokenizer, _preloaded
    tokenizer = _tokenizer
    if tokenizer is not None:
        return tokenizer
    with _lock:
        if _tokenizer is None:
            tokenizer = _preloaded if _preloaded is not None else new_tokenizer(backend_name())
            _preloaded = None
            words = base_user_words()
            if taxonomy is not None:
                words |= taxonomy.user_words()
                _registered_taxonomies.add(taxonomy)
            _add_words(tokenizer, words)
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
    if _tokenizer is None:
        _get_tokenizer(taxonomy)
        if taxonomy in _registered_taxonomies:
            return
    add_user_words(taxonomy.user_words())
    with _lock:
        _registered_taxonomies.add(taxonomy)


def segment(text: str | None, *, hmm: bool = True) -> list[str]:
    """jieba tokens of ``text`` without whitespace tokens; ``None``/empty -> ``[]``."""
    if not text:
        return []
    return [token for token in _get_tokenizer().lcut(text, HMM=hmm) if not token.isspace()]
