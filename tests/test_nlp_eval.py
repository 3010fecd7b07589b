"""The evaluation: metric arithmetic, and the labelled sets themselves (coverage, validity, separation)."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from devtools.nlp_eval.metrics import PRF, sentiment_report, set_report, tag_report
from devtools.nlp_eval.report import DEFAULT_EVAL_PATH, evaluate, format_report, read_labelled
from nlp_udfs.taxonomy import Taxonomy
from orchestration.settings import TAXONOMY_SEED_PATH

DEV_PATH = DEFAULT_EVAL_PATH.with_name("dev_feedback.csv")
STYLES = {"survey", "ticket", "review", "review_append", "social"}
SENTIMENTS = {"positive", "neutral", "negative"}
ISSUE_17_TAGS = {"产品质量-使用效果", "产品质量-新鲜度", "产品质量-口味口感", "产品质量-尺码版型", "产品质量-配件缺失", "产品质量-正品保障"}


def test_prf_arithmetic():
    prf = PRF()
    prf.add({"a", "b"}, {"b", "c"})
    assert (prf.tp, prf.fp, prf.fn) == (1, 1, 1)
    assert prf.precision == prf.recall == prf.f1 == 0.5
    assert PRF().f1 == 0.0


def test_sentiment_report_macro_f1():
    report = sentiment_report(["pos", "pos", "neg", "neu"], ["pos", "neg", "neg", "neu"])
    assert report.accuracy == 0.75
    # pos: P 1, R .5 -> F1 2/3; neg: P .5, R 1 -> 2/3; neu: 1
    assert report.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert report.confusion[("pos", "neg")] == 1


def test_tag_report_micro_per_group_and_confusions():
    report = tag_report(
        [{"A-x"}, {"A-x", "B-y"}, set()],
        [{"A-x"}, {"B-z"}, {"B-y"}],
        {"A-x": "A", "B-y": "B", "B-z": "B"},
    )
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (1, 2, 2)
    assert (report.per_group["A"].tp, report.per_group["A"].fn) == (1, 1)
    assert (report.per_group["B"].fp, report.per_group["B"].fn) == (2, 1)
    assert report.confusions[("A-x", "B-z")] == 1 and report.confusions[(None, "B-y")] == 1


def test_set_report_per_label():
    report = set_report([{"safety"}, set()], [{"safety", "legal"}, {"legal"}])
    assert report["safety"].f1 == 1.0 and report["legal"].fp == 2


@pytest.mark.parametrize("path", [DEFAULT_EVAL_PATH, DEV_PATH])
def test_labelled_sets_are_valid(path):
    items = read_labelled(path)
    tags = set(Taxonomy.from_csv(TAXONOMY_SEED_PATH).tag_names)
    assert len({item.id for item in items}) == len(items)
    for item in items:
        assert item.text.strip() and item.source_style in STYLES and item.sentiment in SENTIMENTS
        assert item.tags <= tags, item.id
        assert item.risks <= {"safety", "fraud", "privacy", "legal", "media"}


def test_eval_set_covers_every_style_and_every_default_tag():
    items = read_labelled(DEFAULT_EVAL_PATH)
    assert len(items) >= 400
    assert {item.source_style for item in items} == STYLES
    per_tag = Counter(tag for item in items for tag in item.tags)
    with open(TAXONOMY_SEED_PATH, encoding="utf-8") as handle:
        seed_tags = [row["tag"] for row in csv.DictReader(handle)]
    # Written for the first 33 tags; issue 17's cleaning retired 29 items and moved some labels to
    # the six tags it added, which the real-text set measures (docs/evaluation-protocol.md).
    assert all(per_tag[tag] >= 7 for tag in seed_tags if tag not in ISSUE_17_TAGS), per_tag
    assert sum(1 for item in items if not item.tags) >= 20  # untagged feedback is evaluated too
    assert all(any(item.sentiment == label for item in items) for label in SENTIMENTS)


def test_dev_and_eval_sets_do_not_share_texts():
    assert not {i.text for i in read_labelled(DEFAULT_EVAL_PATH)} & {i.text for i in read_labelled(DEV_PATH)}


def test_evaluate_scores_the_production_enrich(tmp_path):
    path = Path(tmp_path) / "tiny.csv"
    path.write_text(
        "id,source_style,text,expected_tags,expected_sentiment,expected_risks\n"
        "1,survey,物流太慢了,物流体验-时效性,negative,\n"
        "2,review,充电宝爆炸了,风险合规-安全隐患,negative,safety\n",
        encoding="utf-8",
    )
    result = evaluate(read_labelled(path))
    assert result.tags.micro.tp == 2 and result.sentiment.accuracy == 1.0
    assert result.risks["safety"].tp == 1
    text = format_report(result, show_errors=5)
    assert "macro-F1" in text and "物流体验" in text and "WORST CONFUSIONS" in text
