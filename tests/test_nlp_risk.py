"""detect_risks: safety, fraud, privacy, legal threats and media exposure, with negation and vetoes."""

import json
from pathlib import Path

import pytest

from nlp_udfs.enrich import enrich
from nlp_udfs.risk import RISK_CATEGORIES, detect_risks, risk_categories, risk_evidence_json, risk_rules
from nlp_udfs.taxonomy import Taxonomy

SEED_PATH = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "taxonomy.csv"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("充电器烫得不敢摸，还冒烟了", ["safety"]),
        ("电池鼓包了，太危险", ["safety"]),
        ("孩子的手被划伤了", ["safety"]),
        ("有人冒充客服让我转账", ["fraud"]),
        ("信用卡被盗刷了", ["fraud"]),
        ("每个月被自动扣费", ["fraud"]),
        ("我的个人信息被泄露了", ["privacy"]),
        ("你们是不是把我的信息卖了", ["privacy"]),
        ("再不退款我就打12315", ["legal"]),
        ("已经找律师准备起诉", ["legal"]),
        ("我要去消费者协会投诉", ["legal"]),
        ("我会把这件事发到微博上曝光", ["media"]),
        ("已经联系记者了", ["media"]),
    ],
)
def test_each_category(text, expected):
    assert risk_categories(text) == expected


@pytest.mark.parametrize(
    "text",
    ["用了一下午也不发烫", "没有起火也没有冒烟，很放心", "从来没漏电", "不会过敏", "物流很快，包装完好"],
)
def test_negated_or_absent_hazard_raises_nothing(text):
    assert detect_risks(text) == []


def test_veto_phrases():
    assert risk_categories("等了一周，心态炸了") == []  # not an explosion
    assert risk_categories("客服把我的手机号发到群里，隐私都被曝光了") == ["privacy"]  # not media exposure


def test_several_categories_in_category_order_with_evidence():
    hits = detect_risks("被骗了三千块，我要报警，还要找媒体曝光")
    assert [hit.category for hit in hits] == ["fraud", "legal", "media"]
    evidence = json.loads(risk_evidence_json(hits))
    assert evidence[0] == {"category": "fraud", "keyword": "被骗", "clause": "被骗了三千块"}
    assert risk_evidence_json([]) == "[]"


def test_latin_keywords_respect_word_edges():
    assert risk_categories("订单号O2025012315已发货") == []
    assert risk_categories("打了12315") == ["legal"]


def test_empty_text():
    assert detect_risks(None) == [] and detect_risks("") == []


def test_rules_cover_every_category_and_parse():
    rules = risk_rules()
    assert {rule.category for rule in rules.rules if not rule.is_veto} == set(RISK_CATEGORIES)


def test_enrich_carries_risks_of_the_masked_text():
    taxonomy = Taxonomy.from_csv(SEED_PATH)
    result = enrich("充电宝爆炸了，电话13800138000", taxonomy)
    assert result["risks"] == ["safety"]
    assert "13800138000" not in result["risk_evidence"]
    assert enrich("物流很快", taxonomy)["risks"] == []
