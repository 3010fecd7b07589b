"""The shipped character n-gram models (pure Python scoring).

Weights come from ``python -m devtools.training.train`` (see there for data and licence). All
three are logistic regressions over the distinct 1- to 3-character n-grams of a text:

- the clause polarity model (``sentiment_char_ngrams.tsv.gz``): log-odds of positive vs
  negative of one clause; it complements the lexicon on complaints that carry no sentiment word
  ("等了五六天", "连不上手机"). Trained on short review sentences and this project's phrases;
- the neutral gate (``neutral_gate_char_ngrams.tsv.gz``): log-odds that a clause (or a text)
  takes a side at all, vs a neutral inquiry, request or status report ("麻烦帮我改一下地址",
  "物流显示明天派送"). The polarity models never saw a neutral sentence, so their evidence is
  only trusted as far as the gate says the text is polar;
- the review model (``review_char_ngrams.tsv.gz``, issue 17): log-odds of positive vs negative
  of a **whole** review, trained on real reviews of many shops and domains. It reads what the
  clause sum misses on long real reviews (books, hotels, dairy: domains no phrase covers); the
  scorer adds it at text level where the clause rules do not say the text asks or defers.

``NlpConfig(sentiment_model=False)`` (``nlp_udfs.config``) turns all off (lexicon only).
"""

from __future__ import annotations

import gzip
import math
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from .config import current
from .text_cleaning import to_half_width

DEFAULT_MODEL_PATH = Path(__file__).with_name("models") / "sentiment_char_ngrams.tsv.gz"
DEFAULT_GATE_PATH = DEFAULT_MODEL_PATH.with_name("neutral_gate_char_ngrams.tsv.gz")
DEFAULT_REVIEW_PATH = DEFAULT_MODEL_PATH.with_name("review_char_ngrams.tsv.gz")
NGRAM_RANGE = (1, 3)


def normalise_for_model(text: str) -> str:
    """The text form the model is trained and scored on: half-width, lower-case, no spaces."""
    return "".join(to_half_width(text).lower().split())


def char_ngrams(text: str) -> set[str]:
    """The distinct 1- to 3-character n-grams (``NGRAM_RANGE``) of an already normalised text."""
    # map() over shifted copies builds the bigrams and trigrams in C (faster than slicing in a
    # comprehension; the scorer calls this for every clause).
    bigrams = list(map(str.__add__, text, text[1:]))
    return {*text, *bigrams, *map(str.__add__, bigrams, text[2:])}


class NgramModel:
    def __init__(self, weights: dict[str, float], intercept: float):
        self.weights = weights
        self.intercept = intercept

    def logit(self, text: str) -> float:
        """Log-odds of the positive class for an already normalised text (0.0 for empty text)."""
        if not text:
            return 0.0
        return self.logit_of_ngrams(char_ngrams(text))

    def logit_of_ngrams(self, grams: set[str]) -> float:
        """Log-odds for the n-gram set of a text (``char_ngrams``), so that two models can share it."""
        # map/filter run in C: absent n-grams give None and are dropped. fsum is exact, so the
        # order of the set (a per-process string hash seed) cannot change the last bits.
        return self.intercept + math.fsum(filter(None, map(self.weights.get, grams)))

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


_REAL, _IMAG = operator.attrgetter("real"), operator.attrgetter("imag")


class ModelPair:
    """The clause polarity model and the neutral gate read in one pass over a clause's n-grams,
    and (optional) the review model read with the gate in one pass over a whole text's.

    Each n-gram maps to the complex number ``polarity weight + gate weight * 1j``, so one
    C-level ``sum`` gives both logits (real and imaginary part) with a single dictionary lookup
    per n-gram instead of one per model; the text-level table pairs the review weight with the
    gate weight the same way.
    """

    def __init__(self, polarity: NgramModel, gate: NgramModel | None, review: NgramModel | None = None):
        self.polarity = polarity
        self.gate = gate
        self.review = review
        gate_weights = gate.weights if gate is not None else {}
        self._paired = {gram: complex(polarity.weights.get(gram, 0.0), gate_weights.get(gram, 0.0))
                        for gram in polarity.weights.keys() | gate_weights.keys()}
        self._text_paired = {} if review is None else {
            gram: complex(review.weights.get(gram, 0.0), gate_weights.get(gram, 0.0))
            for gram in review.weights.keys() | gate_weights.keys()}

    def text_logits(self, text: str) -> tuple[float, float] | None:
        """(review logit with its intercept, gate logit with its intercept) of an already
        normalised whole text; None for empty text or without a review model. Without a gate the
        gate logit is +inf (polar)."""
        if not text or self.review is None:
            return None
        total = sum(filter(None, map(self._text_paired.get, char_ngrams(text))), 0j)
        gate_logit = self.gate.intercept + total.imag if self.gate is not None else math.inf
        return self.review.intercept + total.real, gate_logit

    def logits(self, text: str) -> tuple[float, float] | None:
        """(polarity logit without the intercept, gate logit with its intercept) of an already
        normalised text; None for empty text. Without a gate the gate logit is +inf (polar)."""
        if not text:
            return None
        # fsum per part is exact: every process (a Spark or NLP worker has its own string hash
        # seed, so its own set order) gets the same bits
        weights = list(filter(None, map(self._paired.get, char_ngrams(text))))
        real = math.fsum(map(_REAL, weights))
        gate_logit = self.gate.intercept + math.fsum(map(_IMAG, weights)) if self.gate is not None else math.inf
        return real, gate_logit


# A pair put in place by ``use_pair`` (evaluation: leave-one-domain-out scores the same path with
# models trained without the held-out domain). Empty in production.
_ACTIVE_PAIR: list[ModelPair | None] = []


def active_pair() -> ModelPair | None:
    """The pair the scorer uses: the one of ``use_pair`` when inside it, else ``default_pair()``."""
    return _ACTIVE_PAIR[-1] if _ACTIVE_PAIR else default_pair()


@contextmanager
def use_pair(pair: ModelPair | None) -> Iterator[None]:
    """Score with ``pair`` (None: lexicon only) inside the block. Callers that memoise clause
    scores (``nlp_udfs.sentiment.use_models``) must clear their memos on entry and exit."""
    _ACTIVE_PAIR.append(pair)
    try:
        yield
    finally:
        _ACTIVE_PAIR.pop()


def load_pair(polarity_path: Path, gate_path: Path | None, review_path: Path | None = None) -> ModelPair:
    """A pair read from model files (the gate and the review model are optional)."""
    gate = NgramModel.load(gate_path) if gate_path is not None and gate_path.exists() else None
    review = NgramModel.load(review_path) if review_path is not None and review_path.exists() else None
    return ModelPair(NgramModel.load(polarity_path), gate, review)


@lru_cache(maxsize=1)
def default_pair() -> ModelPair | None:
    """The shipped polarity model with the shipped gate and review model (when present); None
    when switched off or not trained."""
    polarity = default_model()
    return None if polarity is None else ModelPair(polarity, default_gate(), default_review())


def models_enabled() -> bool:
    return current().sentiment_model


@lru_cache(maxsize=1)
def default_model() -> NgramModel | None:
    """The shipped polarity model, or None when switched off or not trained."""
    if not models_enabled() or not DEFAULT_MODEL_PATH.exists():
        return None
    return NgramModel.load(DEFAULT_MODEL_PATH)


@lru_cache(maxsize=1)
def default_gate() -> NgramModel | None:
    """The shipped neutral gate (polar vs neutral), or None when switched off or not trained."""
    if not models_enabled() or not DEFAULT_GATE_PATH.exists():
        return None
    return NgramModel.load(DEFAULT_GATE_PATH)


@lru_cache(maxsize=1)
def default_review() -> NgramModel | None:
    """The shipped whole-review polarity model, or None when switched off or not trained."""
    if not models_enabled() or not DEFAULT_REVIEW_PATH.exists():
        return None
    return NgramModel.load(DEFAULT_REVIEW_PATH)
