"""Aspects, aspect contexts and text vetoes of the taxonomy (issue 17).

Most tests call ``tag_clauses`` with given raw clause scores, so they test the matching rules
and not the sentiment model (which another change may retrain): a raw score of -2.0 judges,
0.3 does not (``label_for(squash(0.3))`` is neutral).
"""

import json
from pathlib import Path

import pytest

from nlp_udfs.taxonomy import ASPECT_CLAUSE_MAX, Keyword, Taxonomy, parse_aspects, tag_clauses, tag_text

SEED_PATH = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "taxonomy.csv"

ROWS = [
    {"tag": "物流-时效", "keywords": "物流*慢", "aspects": "物流|快递"},
    {"tag": "物流-信息", "keywords": "物流信息"},
    {"tag": "人员-快递员", "keywords": "快递员"},
    {"tag": "质量-做工", "keywords": "线头", "aspects": "质量|太小@苹果/水果", "negative_keywords": "服务质量"},
    {"tag": "质量-尺码", "keywords": "偏小", "aspects": "太小|尺码", "aspect_context": "衣服|裤子"},
    {"tag": "价格-价格", "keywords": "价格|便宜"},
    {"tag": "客服-态度", "keywords": "爱答不理", "aspects": "服务", "text_negative_keywords": "酒店|入住"},
    {"tag": "门店-店员", "keywords": "前台", "aspects": "服务", "aspect_context": "酒店|入住"},
    {"tag": "质量-故障", "keywords": "噪音", "text_negative_keywords": "酒店"},
]
JUDGES, PRAISES, NEUTRAL = -2.0, 2.0, 0.3


@pytest.fixture(scope="module")
def taxonomy():
    return Taxonomy.from_rows(ROWS)


def tags(taxonomy, *clauses, text_score=None):
    """Tags of clauses given as (text, raw score)."""
    starts, position = [], 0
    for text, _ in clauses:
        starts.append(position)
        position += len(text) + 1
    given = [(text, start, raw) for (text, raw), start in zip(clauses, starts)]
    return [match.tag for match in tag_clauses(given, taxonomy, text_score)]


def test_an_aspect_counts_only_in_a_clause_that_judges(taxonomy):
    assert tags(taxonomy, ("物流太差了", JUDGES)) == ["物流-时效"]
    assert tags(taxonomy, ("物流杠杠的", PRAISES)) == ["物流-时效"]
    assert tags(taxonomy, ("物流到了", NEUTRAL)) == []
    # no sentiment of its own: the text's sentiment does not make the aspect count
    assert tags(taxonomy, ("物流到了", 0.0), text_score=-0.9) == []
    # a keyword needs no judgement
    assert tags(taxonomy, ("物流有点慢", NEUTRAL)) == ["物流-时效"]


def test_a_keyword_of_the_same_group_takes_the_clause(taxonomy):
    assert tags(taxonomy, ("物流信息不更新太差", JUDGES)) == ["物流-信息"]
    # another group's keyword does not: both concepts are judged
    assert tags(taxonomy, ("质量不错价格也便宜", PRAISES)) == ["质量-做工", "价格-价格"]


def test_an_aspect_inside_a_longer_keyword_does_not_count(taxonomy):
    assert tags(taxonomy, ("快递员很好", PRAISES)) == ["人员-快递员"]
    assert tags(taxonomy, ("快递很好", PRAISES)) == ["物流-时效"]


def test_an_aspect_speaks_only_for_a_short_clause(taxonomy):
    short = "物流太差"
    long = "物流" + "的那个东西" * 3 + "太差"
    assert len(short) <= ASPECT_CLAUSE_MAX < len(long)
    assert tags(taxonomy, (short, JUDGES)) == ["物流-时效"]
    assert tags(taxonomy, (long, JUDGES)) == []


def test_vetoes_apply_to_aspects(taxonomy):
    assert tags(taxonomy, ("服务质量太差", JUDGES)) == ["客服-态度"]


def test_the_text_decides_which_tag_takes_a_shared_aspect(taxonomy):
    # 服务 is 客服-态度 in general, 门店-店员 where the text speaks of a hotel
    assert tags(taxonomy, ("服务很差", JUDGES)) == ["客服-态度"]
    assert tags(taxonomy, ("酒店房间还行", PRAISES), ("服务很差", JUDGES)) == ["门店-店员"]
    # the context may come after the aspect's clause
    assert tags(taxonomy, ("服务很差", JUDGES), ("入住那天", NEUTRAL)) == ["门店-店员"]


def test_per_aspect_context_and_row_context(taxonomy):
    assert tags(taxonomy, ("苹果收到了", NEUTRAL), ("太小了", JUDGES)) == ["质量-做工"]
    assert tags(taxonomy, ("裤子收到了", NEUTRAL), ("太小了", JUDGES)) == ["质量-尺码"]
    # neither context: 太小 has no tag without a context here
    assert tags(taxonomy, ("手机收到了", NEUTRAL), ("太小了", JUDGES)) == []
    # the row's context applies to all its aspects without @
    assert tags(taxonomy, ("尺码不标准", JUDGES)) == []
    assert tags(taxonomy, ("衣服", NEUTRAL), ("尺码不标准", JUDGES)) == ["质量-尺码"]


def test_text_vetoes_drop_a_tag_anywhere_in_the_text(taxonomy):
    assert tags(taxonomy, ("噪音大", JUDGES)) == ["质量-故障"]
    assert tags(taxonomy, ("住的酒店", NEUTRAL), ("噪音大", JUDGES)) == []
    assert tags(taxonomy, ("客服爱答不理", JUDGES)) == ["客服-态度"]
    assert tags(taxonomy, ("入住时客服爱答不理", JUDGES)) == []


def test_evidence_names_the_aspect(taxonomy):
    [match] = tag_clauses([("物流太差了", 0, JUDGES)], taxonomy)
    assert (match.tag, match.keyword, match.sentiment) == ("物流-时效", "物流", "negative")


def test_parse_aspects():
    [plain, fruit] = parse_aspects("质量|太小@苹果/水果")
    assert plain.keyword.text == "质量" and plain.context == ()
    assert fruit.keyword.text == "太小" and [word.text for word in fruit.context] == ["苹果", "水果"]
    assert parse_aspects(None) == () and parse_aspects("|") == ()
    [row_default] = parse_aspects("尺码", (Keyword.parse("衣服"),))
    assert [word.text for word in row_default.context] == ["衣服"]


def test_json_rows_carry_the_new_columns(taxonomy):
    document = json.dumps([{"tag": "a-b", "keywords": "x", "aspects": "物流", "aspect_context": "酒店",
                            "text_negative_keywords": "宾馆"}])
    [definition] = Taxonomy.from_json(document).tags
    assert [a.keyword.text for a in definition.aspects] == ["物流"]
    assert [w.text for w in definition.aspect_context] == ["酒店"]
    assert [w.text for w in definition.text_negative_keywords] == ["宾馆"]
    # aspect words join jieba's user dictionary like keywords
    assert {"物流", "质量", "太小", "服务"} <= taxonomy.user_words()


def test_without_aspects_tagging_is_unchanged():
    plain = Taxonomy.from_rows([{"tag": "物流-时效", "keywords": "物流*慢"}])
    assert tags(plain, ("物流太差了", JUDGES)) == []
    assert tags(plain, ("物流太慢了", JUDGES)) == ["物流-时效"]


# --- the default seed on strongly judged clauses ----------------------------------------------


@pytest.fixture(scope="module")
def seed():
    return Taxonomy.from_csv(SEED_PATH)


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        ((("京东物流太差了", JUDGES),), {"物流体验-时效性"}),
        ((("客服太差", JUDGES),), {"客户服务-服务态度"}),
        ((("质量不怎么样", JUDGES),), {"产品质量-做工材质"}),
        ((("效果很一般", JUDGES),), {"产品质量-使用效果"}),
        ((("苹果收到了", NEUTRAL), ("太小了", JUDGES)), {"产品质量-做工材质"}),
        ((("裤子收到了", NEUTRAL), ("太小了", JUDGES)), {"产品质量-尺码版型"}),
        ((("酒店位置好", PRAISES), ("服务态度很差", JUDGES)), {"门店体验-店员服务"}),
        ((("服务态度很差", JUDGES),), {"客户服务-服务态度"}),
    ],
)
def test_default_seed_aspects(seed, clauses, expected):
    assert set(tags(seed, *clauses)) >= expected
    if "门店体验-店员服务" in expected:
        assert "客户服务-服务态度" not in tags(seed, *clauses)


def test_default_seed_end_to_end(seed):
    assert "物流体验-时效性" in {match.tag for match in tag_text("物流太差了，再也不买了", seed)}
