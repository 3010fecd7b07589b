"""How this process runs the NLP functions: segmenter backend, sentiment model, workers, cache.

These are parameters, not environment variables: whoever registers the functions decides
(``register_functions(conn, config)``; the dbt plugin builds its config from the ``config:``
block of the profile, where dbt's ``env_var()`` may read the environment). Until someone calls
``configure``, the defaults below apply.

Only the segmenter backend and the sentiment-model switch change results; the worker count and
the cache size only change speed and memory.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

BACKENDS = ("rjieba", "jieba")
DEFAULT_SEGMENTER = "rjieba"
DEFAULT_CACHE_SIZE = 50_000
_OFF_WORDS = {"off", "0", "false", "no"}


@dataclass(frozen=True)
class NlpConfig:
    """``segmenter``: ``rjieba`` (Rust port, default) or ``jieba`` (reference Python).
    ``sentiment_model``: False = lexicon only. ``workers``: processes for a large batch
    (None = the CPU count, 1 = this process only). ``cache_size``: rows of the result cache
    (0 = off)."""

    segmenter: str = DEFAULT_SEGMENTER
    sentiment_model: bool = True
    workers: int | None = None
    cache_size: int = DEFAULT_CACHE_SIZE

    def __post_init__(self) -> None:
        if self.segmenter not in BACKENDS:
            raise ValueError(f"segmenter must be one of {BACKENDS}, not {self.segmenter!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers!r}")
        if self.cache_size < 0:
            raise ValueError(f"cache_size must not be negative, not {self.cache_size!r}")

    @classmethod
    def from_strings(cls, values: Mapping[str, Any]) -> NlpConfig:
        """A config from text values (a dbt plugin block, a settings file); empty means default.

        Keys: ``segmenter``, ``sentiment_model`` (``off``/``0``/``false``/``no`` = off),
        ``workers``, ``cache_size``; others are ignored.
        """

        def text(name: str) -> str:
            value = values.get(name)
            return "" if value is None else str(value).strip()

        default = cls()
        model = text("sentiment_model").lower()
        workers = text("workers")
        cache_size = text("cache_size")
        return cls(
            segmenter=text("segmenter").lower() or default.segmenter,
            sentiment_model=model not in _OFF_WORDS if model else default.sentiment_model,
            workers=max(1, int(workers)) if workers else default.workers,
            cache_size=max(0, int(cache_size)) if cache_size else default.cache_size,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_lock = threading.Lock()
_current = NlpConfig()


def current() -> NlpConfig:
    """The configuration in force in this process."""
    return _current


def configure(config: NlpConfig) -> None:
    """Make ``config`` the configuration of this process.

    A change of segmenter or model switch drops the tokenizer, the loaded models, the cached
    clause scores and results and the enrichment fingerprint, so they are built again under the
    new configuration.
    """
    global _current
    with _lock:
        previous, _current = _current, config
    if (previous.segmenter, previous.sentiment_model) != (config.segmenter, config.sentiment_model):
        from . import model, parallel, segmentation, sentiment

        segmentation.reset()
        sentiment.clause_parts.cache_clear()  # clause scores include the model's evidence
        model.default_pair.cache_clear()
        model.default_model.cache_clear()
        model.default_gate.cache_clear()
        model.default_review.cache_clear()
        parallel.enrichment_fingerprint.cache_clear()
        parallel.result_cache.clear()
