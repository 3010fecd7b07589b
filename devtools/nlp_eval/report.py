"""Run the NLP functions over a labelled CSV and format the figures ``make eval`` prints.

CSV columns: ``id, source_style, text, expected_tags, expected_sentiment, expected_risks``
(tags and risks ``|``-separated, may be empty).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from nlp_udfs.enrich import enrich
from nlp_udfs.taxonomy import Taxonomy

from .metrics import PRF, SentimentReport, TagReport, sentiment_report, set_report, tag_report

DEFAULT_EVAL_PATH = Path(__file__).with_name("feedback_eval.csv")
WORST_CONFUSIONS = 10


@dataclass(frozen=True)
class LabelledItem:
    id: str
    source_style: str
    text: str
    tags: frozenset[str]
    sentiment: str
    risks: frozenset[str]


@dataclass(frozen=True)
class Prediction:
    tags: frozenset[str]
    sentiment: str
    risks: frozenset[str]


@dataclass
class EvalResult:
    items: list[LabelledItem]
    predictions: list[Prediction]
    sentiment: SentimentReport
    tags: TagReport
    risks: dict[str, PRF]
    per_style_sentiment: dict[str, float]


def _split(value: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (value or "").split("|") if part.strip())


def read_labelled(path: Path) -> list[LabelledItem]:
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            LabelledItem(
                id=row["id"],
                source_style=row["source_style"],
                text=row["text"],
                tags=_split(row["expected_tags"]),
                sentiment=row["expected_sentiment"].strip(),
                risks=_split(row.get("expected_risks")),
            )
            for row in csv.DictReader(handle)
        ]


def predict(text: str, taxonomy: Taxonomy) -> Prediction:
    result = enrich(text, taxonomy)
    return Prediction(frozenset(result["tags"]), result["sentiment_label"], frozenset(result["risks"]))


def seed_taxonomy() -> Taxonomy:
    """The taxonomy of the dbt seed, the one production passes to ``voc_enrich``."""
    from orchestration.settings import TAXONOMY_SEED_PATH

    return Taxonomy.from_csv(TAXONOMY_SEED_PATH)


def evaluate(items: list[LabelledItem], taxonomy: Taxonomy | None = None) -> EvalResult:
    """Predict every item with the production ``enrich`` and score against the labels
    (``taxonomy`` defaults to the dbt seed's)."""
    taxonomy = taxonomy or seed_taxonomy()
    predictions = [predict(item.text, taxonomy) for item in items]
    group_of = {definition.tag: definition.l1 for definition in taxonomy.tags}
    styles: dict[str, list[bool]] = {}
    for item, prediction in zip(items, predictions):
        styles.setdefault(item.source_style, []).append(item.sentiment == prediction.sentiment)
    return EvalResult(
        items=items,
        predictions=predictions,
        sentiment=sentiment_report([i.sentiment for i in items], [p.sentiment for p in predictions]),
        tags=tag_report([i.tags for i in items], [p.tags for p in predictions], group_of),
        risks=set_report([i.risks for i in items], [p.risks for p in predictions]),
        per_style_sentiment={style: sum(hits) / len(hits) for style, hits in sorted(styles.items())},
    )


def evaluate_file(path: Path) -> EvalResult:
    return evaluate(read_labelled(path))


def _prf_line(name: str, prf: PRF, width: int = 14) -> str:
    return (
        f"  {name:<{width}} P {prf.precision:6.3f}  R {prf.recall:6.3f}  F1 {prf.f1:6.3f}"
        f"   (tp {prf.tp}, fp {prf.fp}, fn {prf.fn})"
    )


def format_report(result: EvalResult, show_errors: int = 0) -> str:
    """The human-readable report: sentiment, tags per L1, risks, worst confusions."""
    sentiment = result.sentiment
    lines = [f"items: {len(result.items)}", "", "SENTIMENT"]
    lines.append(f"  accuracy {sentiment.accuracy:.3f}   macro-F1 {sentiment.macro_f1:.3f}")
    for label, prf in sorted(sentiment.per_class.items()):
        lines.append(_prf_line(label, prf))
    lines.append("  accuracy per source style: " + ", ".join(
        f"{style} {value:.3f}" for style, value in result.per_style_sentiment.items()))
    lines += ["", "TAGS", _prf_line("micro (all)", result.tags.micro)]
    for group, prf in sorted(result.tags.per_group.items()):
        lines.append(_prf_line(group, prf))
    worst_tags = sorted(result.tags.per_tag.items(), key=lambda item: (item[1].f1, item[0]))[:5]
    lines.append("  weakest tags: " + ", ".join(f"{tag} {prf.f1:.2f}" for tag, prf in worst_tags))
    lines += ["", "RISK CATEGORIES"]
    risk_total = PRF()
    for label, prf in sorted(result.risks.items()):
        lines.append(_prf_line(label, prf))
        risk_total.tp, risk_total.fp, risk_total.fn = (
            risk_total.tp + prf.tp, risk_total.fp + prf.fp, risk_total.fn + prf.fn)
    lines.append(_prf_line("micro (all)", risk_total))
    lines += ["", f"WORST CONFUSIONS (top {WORST_CONFUSIONS})", "  sentiment (expected -> predicted):"]
    wrong_sentiment = Counter({pair: n for pair, n in sentiment.confusion.items() if pair[0] != pair[1]})
    for (gold, guess), count in wrong_sentiment.most_common(WORST_CONFUSIONS):
        lines.append(f"    {gold:>8} -> {guess:<8} {count}")
    lines.append("  tags (missed -> predicted instead; '-' = nothing):")
    for (missed, wrong), count in result.tags.confusions.most_common(WORST_CONFUSIONS):
        lines.append(f"    {missed or '-'} -> {wrong or '-'}  {count}")
    if show_errors:
        lines += ["", f"ERRORS (first {show_errors})"]
        shown = 0
        for item, prediction in zip(result.items, result.predictions):
            if item.tags == prediction.tags and item.sentiment == prediction.sentiment and item.risks == prediction.risks:
                continue
            text = item.text.replace("\n", " / ")
            lines.append(
                f"  {item.id} {text}\n      sentiment {item.sentiment} -> {prediction.sentiment}; "
                f"tags {sorted(item.tags)} -> {sorted(prediction.tags)}; risks {sorted(item.risks)} -> {sorted(prediction.risks)}"
            )
            shown += 1
            if shown >= show_errors:
                break
    return "\n".join(lines)
