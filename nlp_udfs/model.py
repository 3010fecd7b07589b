"""The shipped character n-gram sentiment model (pure Python scoring).

Weights come from ``python -m nlp_udfs.train`` (see there for data and licence). The
model's logit is the intercept plus the weights of the distinct 1- to 3-character n-grams of
the text; it complements the lexicon on complaints that carry no sentiment word
("等了五六天", "连不上手机"). ``VOC_SENTIMENT_MODEL=off`` turns it off (lexicon only).
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from pathlib import Path

from .text_cleaning import to_half_width

DEFAULT_MODEL_PATH = Path(__file__).with_name("models") / "sentiment_char_ngrams.tsv.gz"
NGRAM_RANGE = (1, 3)
MODEL_ENV = "VOC_SENTIMENT_MODEL"


def normalise_for_model(text: str) -> str:
    """The text form the model is trained and scored on: half-width, lower-case, no spaces."""
    return "".join(to_half_width(text).lower().split())


class NgramModel:
    def __init__(self, weights: dict[str, float], intercept: float):
        self.weights = weights
        self.intercept = intercept

    def logit(self, text: str) -> float:
        """Log-odds of "positive" for an already normalised text (0.0 for empty text)."""
        if not text:
            return 0.0
        low, high = NGRAM_RANGE
        grams = {text[start:start + size] for size in range(low, high + 1) for start in range(len(text) - size + 1)}
        # map/filter run in C: absent n-grams give None and are dropped.
        return self.intercept + sum(filter(None, map(self.weights.get, grams)))

    @classmethod
    def load(cls, path: Path) -> NgramModel:
        weights: dict[str, float] = {}
        intercept = 0.0
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("#") or not line.strip():
                    continue
                name, value = line.rstrip("\n").split("\t")
                if name == "__intercept__":
                    intercept = float(value)
                else:
                    weights[name] = float(value)
        return cls(weights, intercept)


@lru_cache(maxsize=1)
def default_model() -> NgramModel | None:
    """The shipped model, or None when switched off or not trained."""
    if os.environ.get(MODEL_ENV, "").strip().lower() in {"off", "0", "false", "no"}:
        return None
    if not DEFAULT_MODEL_PATH.exists():
        return None
    return NgramModel.load(DEFAULT_MODEL_PATH)
