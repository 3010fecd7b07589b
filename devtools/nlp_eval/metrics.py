"""Scoring functions for the NLP evaluation (pure, no I/O).

Sentiment is single-label (negative / neutral / positive): accuracy, per-class precision,
recall and F1, macro-F1 (the unweighted mean of the per-class F1). Tags are multi-label:
each (item, tag) pair is a decision, so micro precision/recall/F1 count true positives,
false positives and false negatives over all pairs; "per L1" restricts the pairs to tags of
that L1 group.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass
class PRF:
    """True positive, false positive and false negative counts with derived scores."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, expected: set[str], predicted: set[str]) -> None:
        self.tp += len(expected & predicted)
        self.fp += len(predicted - expected)
        self.fn += len(expected - predicted)


@dataclass
class SentimentReport:
    accuracy: float
    macro_f1: float
    per_class: dict[str, PRF]
    confusion: Counter  # (expected, predicted) -> count


def sentiment_report(expected: Sequence[str], predicted: Sequence[str]) -> SentimentReport:
    """Accuracy, per-class P/R/F1, macro-F1 and the confusion counts of single labels."""
    if len(expected) != len(predicted):
        raise ValueError("expected and predicted differ in length")
    labels = sorted(set(expected) | set(predicted))
    per_class = {label: PRF() for label in labels}
    confusion: Counter = Counter()
    for gold, guess in zip(expected, predicted):
        confusion[(gold, guess)] += 1
        for label, prf in per_class.items():
            prf.add({label} if gold == label else set(), {label} if guess == label else set())
    correct = sum(1 for gold, guess in zip(expected, predicted) if gold == guess)
    accuracy = correct / len(expected) if expected else 0.0
    gold_labels = sorted(set(expected))
    macro = sum(per_class[label].f1 for label in gold_labels) / len(gold_labels) if gold_labels else 0.0
    return SentimentReport(accuracy, macro, per_class, confusion)


@dataclass
class TagReport:
    micro: PRF
    per_group: dict[str, PRF]
    per_tag: dict[str, PRF]
    confusions: Counter = field(default_factory=Counter)  # (missed tag, wrongly predicted tag) -> count


def tag_report(
    expected: Sequence[Iterable[str]], predicted: Sequence[Iterable[str]], group_of: dict[str, str]
) -> TagReport:
    """Micro P/R/F1 over (item, tag) decisions, per group (L1) and per tag.

    ``confusions`` counts, within one item, a missed expected tag paired with each wrongly
    predicted tag (``None`` on either side when only one of them happened): the pairs that
    show which tags the tagger mistakes for which.
    """
    micro = PRF()
    per_group: dict[str, PRF] = {}
    per_tag: dict[str, PRF] = {}
    confusions: Counter = Counter()
    for gold_raw, guess_raw in zip(expected, predicted, strict=True):
        gold, guess = set(gold_raw), set(guess_raw)
        micro.add(gold, guess)
        for tag in gold | guess:
            per_tag.setdefault(tag, PRF()).add(gold & {tag}, guess & {tag})
            group = group_of.get(tag, "?")
            per_group.setdefault(group, PRF()).add(gold & {tag}, guess & {tag})
        missed, extra = sorted(gold - guess), sorted(guess - gold)
        for miss in missed or [None]:
            for wrong in extra or [None]:
                if miss is not None or wrong is not None:
                    confusions[(miss, wrong)] += 1
    return TagReport(micro, per_group, per_tag, confusions)


def set_report(expected: Sequence[Iterable[str]], predicted: Sequence[Iterable[str]]) -> dict[str, PRF]:
    """Per-label P/R/F1 of multi-label sets (used for risk categories)."""
    report: dict[str, PRF] = {}
    for gold_raw, guess_raw in zip(expected, predicted, strict=True):
        gold, guess = set(gold_raw), set(guess_raw)
        for label in gold | guess:
            report.setdefault(label, PRF()).add(gold & {label}, guess & {label})
    return report
