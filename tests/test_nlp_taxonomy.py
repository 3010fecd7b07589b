"""Taxonomy seed, clause-aware tagging, segmentation with the taxonomy user dictionary, enrich."""

import csv
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nlp_udfs.enrich import ENRICH_FIELDS, empty_result, enrich, extract_terms
from nlp_udfs.segmentation import ensure_taxonomy_words, segment
from nlp_udfs.taxonomy import (
    Keyword,
    TagMatch,
    Taxonomy,
    primary_tag,
    tag_evidence_json,
    tag_text,
)

REPO = Path(__file__).resolve().parents[1]
SEED_PATH = REPO / "dbt_project" / "seeds" / "taxonomy.csv"

DEFAULT_TAGS = [
    "物流体验-时效性", "物流体验-包装破损", "物流体验-配送服务", "物流体验-物流信息",
    "产品质量-功能故障", "产品质量-做工材质", "产品质量-耐用性", "产品质量-与描述不符",
    # issue 17: concepts real reviews show and the first 33 tags lacked
    "产品质量-使用效果", "产品质量-新鲜度", "产品质量-口味口感", "产品质量-尺码版型", "产品质量-配件缺失", "产品质量-正品保障",
    "价格促销-价格", "价格促销-促销规则", "价格促销-优惠券",
    "客户服务-服务态度", "客户服务-响应速度", "客户服务-问题解决", "客户服务-专业能力",
    "售后退换-退换货流程", "售后退换-退款时效", "售后退换-维修保养", "售后退换-保修政策",
    "数字体验-应用性能", "数字体验-操作便捷", "数字体验-账号登录", "数字体验-支付问题",
    "门店体验-门店环境", "门店体验-排队等待", "门店体验-店员服务",
    "营销沟通-宣传不符", "营销沟通-营销骚扰", "营销沟通-会员权益",
    "风险合规-安全隐患", "风险合规-欺诈诈骗", "风险合规-隐私泄露", "风险合规-投诉维权",
]


@pytest.fixture(scope="module")
def default_taxonomy():
    return Taxonomy.from_csv(SEED_PATH)


def tags_of(text, taxonomy):
    return {match.tag: match.sentiment for match in tag_text(text, taxonomy)}


# --- seed -----------------------------------------------------------------------------------


def test_seed_has_all_default_tags_with_rich_keywords():
    with open(SEED_PATH, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        columns = reader.fieldnames
    assert columns == ["tag", "l1", "l2", "description", "keywords", "negative_keywords", "text_negative_keywords",
                       "aspects", "aspect_context", "is_complaint", "risk_category", "owner_team"]
    assert [row["tag"] for row in rows] == DEFAULT_TAGS
    for row in rows:
        assert row["tag"] == f"{row['l1']}-{row['l2']}"
        keywords = row["keywords"].split("|")
        assert len(keywords) >= 12, row["tag"]
        assert len(set(keywords)) == len(keywords), row["tag"]
        assert all(k.strip() == k and k for k in keywords), row["tag"]
        assert row["is_complaint"] in {"true", "false"}
        assert row["owner_team"] and row["description"]
        assert row["risk_category"] in {"", "safety", "fraud", "privacy", "legal", "media"}
    risk = {row["tag"]: row["risk_category"] for row in rows if row["risk_category"]}
    assert risk == {"风险合规-安全隐患": "safety", "风险合规-欺诈诈骗": "fraud",
                    "风险合规-隐私泄露": "privacy", "风险合规-投诉维权": "legal"}


def test_default_taxonomy_loads(default_taxonomy):
    assert default_taxonomy.tag_names == DEFAULT_TAGS
    timeliness = default_taxonomy.get("物流体验-时效性")
    assert timeliness.is_complaint is True and timeliness.owner_team == "物流部"
    assert default_taxonomy.get("价格促销-价格").is_complaint is False


TYPICAL_COMPLAINTS = [
    ("快递等了一周", "物流体验-时效性"),
    ("配送延迟了三天", "物流体验-时效性"),
    ("物流慢", "物流体验-时效性"),
    ("还没发货", "物流体验-时效性"),
    ("包装盒压扁了", "物流体验-包装破损"),
    ("快递员直接扔门口", "物流体验-配送服务"),
    ("物流信息三天没更新", "物流体验-物流信息"),
    ("用了两天就开不了机", "产品质量-功能故障"),
    ("衣服线头很多", "产品质量-做工材质"),
    ("穿了一个月就起球", "产品质量-做工材质"),
    ("用了两周就坏了,太不耐用", "产品质量-耐用性"),
    ("颜色和图片不一样", "产品质量-与描述不符"),
    ("洗了没效果", "产品质量-使用效果"),
    ("电脑开机很慢", "产品质量-使用效果"),
    ("橙子都发霉了", "产品质量-新鲜度"),
    ("牛奶太难喝", "产品质量-口味口感"),
    ("裤子偏小一码", "产品质量-尺码版型"),
    ("盒里少了一个", "产品质量-配件缺失"),
    ("怀疑是假货", "产品质量-正品保障"),
    ("刚买完就降价", "价格促销-价格"),
    ("满减规则太复杂", "价格促销-促销规则"),
    ("优惠券用不了", "价格促销-优惠券"),
    ("客服爱答不理", "客户服务-服务态度"),
    ("客服电话一直打不通", "客户服务-响应速度"),
    ("问题反映了三次都没解决", "客户服务-问题解决"),
    ("客服一问三不知", "客户服务-专业能力"),
    ("退货流程太麻烦", "售后退换-退换货流程"),
    ("退款一周了还没到账", "售后退换-退款时效"),
    ("约了上门维修", "售后退换-维修保养"),
    ("保修期内不给保修", "售后退换-保修政策"),
    ("APP一直闪退", "数字体验-应用性能"),
    ("老人根本不会用这个小程序", "数字体验-操作便捷"),
    ("收不到验证码", "数字体验-账号登录"),
    ("付款时扣了两次钱", "数字体验-支付问题"),
    ("门店环境很干净", "门店体验-门店环境"),
    ("结账排队半小时", "门店体验-排队等待"),
    ("导购很热情", "门店体验-店员服务"),
    ("直播间说的效果和实际完全不一样", "营销沟通-宣传不符"),
    ("天天打电话推销太骚扰了", "营销沟通-营销骚扰"),
    ("积分突然清零了", "营销沟通-会员权益"),
    ("充电时冒烟了", "风险合规-安全隐患"),
    ("有人冒充客服让我转账", "风险合规-欺诈诈骗"),
    ("个人信息泄露了", "风险合规-隐私泄露"),
    ("我要打12315投诉", "风险合规-投诉维权"),
]


@pytest.mark.parametrize(("text", "tag"), TYPICAL_COMPLAINTS)
def test_every_default_tag_matches_a_typical_complaint(text, tag, default_taxonomy):
    assert tag in tags_of(text, default_taxonomy)


def test_every_default_tag_is_covered_by_the_typical_complaints():
    assert {tag for _, tag in TYPICAL_COMPLAINTS} == set(DEFAULT_TAGS)


# --- keyword syntax and vetoes --------------------------------------------------------------


SMALL_ROWS = [
    {"tag": "物流-时效", "keywords": "物流*慢|物流*快|等了一周", "negative_keywords": "退款", "is_complaint": True,
     "owner_team": "物流部"},
    {"tag": "物流-包装", "keywords": "包装破|破损", "negative_keywords": "", "is_complaint": "true"},
    {"tag": "质量-故障", "keywords": "有问题|坏了", "negative_keywords": "没有问题|没问题", "is_complaint": "false"},
    {"tag": "维权-外部", "keywords": "12315|APP*崩", "negative_keywords": None, "is_complaint": 1},
]


@pytest.fixture(scope="module")
def small():
    return Taxonomy.from_rows(SMALL_ROWS)


def test_from_rows_parses_types(small):
    assert small.tag_names == ["物流-时效", "物流-包装", "质量-故障", "维权-外部"]
    first = small.get("物流-时效")
    assert (first.l1, first.l2) == ("物流", "时效")
    assert [k.text for k in first.keywords] == ["物流*慢", "物流*快", "等了一周"]
    assert [k.text for k in first.negative_keywords] == ["退款"]
    assert [small.get(t).is_complaint for t in small.tag_names] == [True, True, False, True]


def test_from_json_accepts_seed_rows_and_lists(small):
    as_json = json.dumps(SMALL_ROWS, ensure_ascii=False)
    assert Taxonomy.from_json(as_json).tag_names == small.tag_names
    listed = Taxonomy.from_json('[{"tag": "a-b", "keywords": ["慢", "等了*天"], "is_complaint": true}]')
    assert [k.parts for k in listed.tags[0].keywords] == [("慢",), ("等了", "天")]
    assert len(Taxonomy.from_json(None)) == 0 and len(Taxonomy.from_json("")) == 0


def test_invalid_taxonomies_raise():
    with pytest.raises(ValueError, match="duplicate"):
        Taxonomy.from_rows([{"tag": "a-b", "keywords": "x"}, {"tag": "a-b", "keywords": "y"}])
    with pytest.raises(ValueError, match="without a tag"):
        Taxonomy.from_rows([{"keywords": "x"}])
    with pytest.raises(ValueError):
        Taxonomy.from_json('{"tags": 3}')


def test_gap_pattern_matches_inside_one_clause_only(small):
    assert tags_of("物流挺慢的", small) == {"物流-时效": "negative"}
    assert tags_of("物流速度真的太快了", small) == {"物流-时效": "positive"}
    assert tags_of("物流,慢", small) == {}  # not across a clause boundary
    assert tags_of("物流信息显示已经到了本市的中转站然后很慢", small) == {}  # gap too long


def test_keyword_normalisation_matches_full_width_and_case():
    keyword = Keyword.parse(" ＡＰＰ * 崩 ")
    assert keyword.parts == ("app", "崩")
    assert keyword.occurs_in("app又崩了")


def test_latin_and_digit_keywords_need_word_edges(small):
    assert "维权-外部" in tags_of("不处理的话我就打12315", small)
    assert tags_of("订单号O2025012315678", small) == {}
    assert "维权-外部" in tags_of("APP又崩了", small)
    assert tags_of("whatsapp又崩了", small) == {}


def test_negative_keyword_vetoes_only_its_clause(small):
    assert tags_of("没有问题", small) == {}
    assert "质量-故障" in tags_of("用了一周没问题,后来坏了", small)
    assert tags_of("退款等了一周", small) == {}


def test_negation_keeps_tag_but_flips_aspect_sentiment(small):
    assert tags_of("物流不慢", small) == {"物流-时效": "positive"}
    assert tags_of("物流不快", small) == {"物流-时效": "negative"}


def test_contrast_gives_aspect_level_sentiment(small):
    matches = tag_text("物流挺快的,但是包装破了", small)
    assert [(m.tag, m.sentiment) for m in matches] == [("物流-时效", "positive"), ("物流-包装", "negative")]
    assert matches[0].clause == "物流挺快的" and matches[1].clause == "但是包装破了"
    assert matches[0].keyword == "物流*快" and matches[1].keyword == "包装破"
    assert primary_tag(matches) == "物流-包装"


def test_contract_example_without_comma(default_taxonomy):
    found = tags_of("物流快但是包装破了", default_taxonomy)
    assert found["物流体验-时效性"] == "positive"
    assert found["物流体验-包装破损"] == "negative"


def test_clause_without_sentiment_words_takes_text_sentiment(small):
    matches = tag_text("等了一周,差评", small)
    assert matches[0].sentiment == "negative"


def test_unmatched_text_gets_no_tag(small, default_taxonomy):
    assert tag_text("今天天气不错", small) == []
    assert tag_text("今天天气不错", default_taxonomy) == []
    assert tag_text("", small) == [] and tag_text(None, small) == [] and tag_text("物流慢", None) == []


def test_one_match_per_tag_most_negative_clause(small):
    matches = tag_text("物流很快,后来物流又太慢了", small)
    assert len(matches) == 1 and matches[0].sentiment == "negative"


def test_primary_tag_most_negative_then_earliest():
    def match(tag, score, start):
        return TagMatch(tag, "k", "c", "neutral", score, start)

    assert primary_tag([match("a", -0.2, 0), match("b", -0.7, 5), match("c", 0.5, 9)]) == "b"
    assert primary_tag([match("a", -0.5, 3), match("b", -0.5, 0)]) == "b"
    assert primary_tag([]) is None


def test_tag_evidence_json(small):
    evidence = json.loads(tag_evidence_json(tag_text("物流挺快的,但是包装破了", small)))
    assert [set(item) for item in evidence] == [{"tag", "keyword", "clause", "sentiment", "score"}] * 2
    assert evidence[1] == {"tag": "物流-包装", "keyword": "包装破", "clause": "但是包装破了",
                           "sentiment": "negative", "score": evidence[1]["score"]}
    assert evidence[1]["score"] < 0 < evidence[0]["score"]
    assert tag_evidence_json([]) == "[]"


def test_nothing_depends_on_default_tag_names():
    custom = Taxonomy.from_rows([{"tag": "Delivery-Speed", "keywords": "slow|快递*慢"}])
    assert tags_of("快递太慢", custom) == {"Delivery-Speed": "negative"}


# --- segmentation ---------------------------------------------------------------------------


def test_segment_keeps_taxonomy_keywords_whole(default_taxonomy):
    ensure_taxonomy_words(default_taxonomy)  # as enrich does before it segments
    tokens = segment("还没发货，客服态度差，一直推诿，物流信息不更新，快递小哥人很好")
    for word in ("还没发货", "态度差", "推诿", "物流信息", "快递小哥"):
        assert word in tokens
    assert segment(None) == [] and segment("") == [] and " " not in segment("物流 很快")


def test_custom_taxonomy_words_join_the_user_dictionary():
    word = "喵星人专用柜"
    assert word not in segment(f"放在{word}里了")
    custom = Taxonomy.from_rows([{"tag": "x-y", "keywords": f"{word}|别的*词"}])
    ensure_taxonomy_words(custom)
    assert word in segment(f"放在{word}里了")


def test_jieba_is_lazy_and_quiet():
    code = (
        "import sys, nlp_udfs, nlp_udfs.duckdb_functions\n"
        "assert 'jieba' not in sys.modules, 'jieba imported at import time'\n"
        "from nlp_udfs import segment\n"
        "print(segment('物流很快'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "物流" in done.stdout


def test_segment_and_enrich_are_thread_safe(default_taxonomy):
    texts = [f"第{i}单物流太慢了,客服态度差,电话1380013{i:04d}" for i in range(200)]
    expected = [enrich(text, default_taxonomy) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda text: enrich(text, default_taxonomy), texts))
    assert got == expected


# --- enrich ---------------------------------------------------------------------------------


def test_enrich_fields_and_types(default_taxonomy):
    result = enrich("快递太慢了,等了一个星期<br>东西还行 😡 @某某品牌官方", default_taxonomy)
    assert tuple(result) == ENRICH_FIELDS
    assert result["text_masked"] == "快递太慢了,等了一个星期 东西还行 某某品牌官方"
    assert isinstance(result["sentiment_score"], float) and result["sentiment_label"] == "negative"
    assert result["tags"] == ["物流体验-时效性"]
    assert result["primary_tag"] == "物流体验-时效性"
    evidence = json.loads(result["tag_evidence"])
    assert evidence[0]["tag"] == "物流体验-时效性" and evidence[0]["sentiment"] == "negative"
    assert "快递" in result["terms"]


def test_enrich_multi_label_and_primary(default_taxonomy):
    result = enrich("物流挺快的,但是包装破了", default_taxonomy)
    assert result["tags"] == ["物流体验-时效性", "物流体验-包装破损"]
    assert result["primary_tag"] == "物流体验-包装破损"


@pytest.mark.parametrize("value", [None, "", "  \n ", "<br>"])
def test_enrich_empty(value, default_taxonomy):
    assert enrich(value, default_taxonomy) == empty_result()


@pytest.mark.parametrize(("value", "label"), [("😡😡", "negative"), ("👍👍👍", "positive"), ("👎", "negative")])
def test_emoji_only_feedback_keeps_its_sentiment_and_nothing_else(value, label, default_taxonomy):
    result = enrich(value, default_taxonomy)
    assert result["sentiment_label"] == label
    assert {**result, "sentiment_score": 0.0, "sentiment_label": "neutral"} == empty_result()


def test_enrich_needs_its_taxonomy_and_none_means_no_tags(default_taxonomy):
    with pytest.raises(TypeError):
        enrich("还没发货")  # no silent default: the caller passes the taxonomy
    assert enrich("还没发货", default_taxonomy)["tags"] == ["物流体验-时效性"]
    assert enrich("还没发货", None)["tags"] == []


def test_the_package_does_not_know_where_the_seed_is():
    import nlp_udfs.taxonomy as taxonomy_module

    assert not hasattr(taxonomy_module, "DEFAULT_SEED_PATH") and not hasattr(Taxonomy, "default")


def test_enrich_untagged_text(default_taxonomy):
    result = enrich("今天天气不错", default_taxonomy)
    assert result["tags"] == [] and result["primary_tag"] is None and result["tag_evidence"] == "[]"


def test_terms_drop_stopwords_fillers_brand_and_single_chars(default_taxonomy):
    terms = enrich("这个就是然后某某品牌的快递太慢了啊,我们等了一周!!", default_taxonomy)["terms"]
    for filler in ("这个", "就是", "然后", "某某品牌", "某某", "品牌", "我们", "的", "了", "啊", "!"):
        assert filler not in terms
    assert "快递" in terms and "等了一周" in terms
    assert all(len(term) >= 2 for term in terms)
    assert len(terms) == len(set(terms))


def test_extract_terms_drops_numbers_and_placeholders():
    terms = extract_terms("订单O20250601001 电话[PHONE] 邮箱[EMAIL] 2025年 iPhone 好用 5G手机")
    assert terms == ["订单", "电话", "邮箱", "iphone", "好用", "5g", "手机"]
    assert extract_terms(None) == []


def test_long_text_enrich_is_reasonably_fast(default_taxonomy):
    import time

    text = ("物流很快，但是包装破了，客服态度一点也不敷衍！电话13800138000。" * 600)[:20000]
    started = time.perf_counter()
    result = enrich(text, default_taxonomy)
    assert time.perf_counter() - started < 3.0
    assert "13800138000" not in json.dumps(result, ensure_ascii=False)
    assert {"物流体验-时效性", "物流体验-包装破损", "客户服务-服务态度"} <= set(result["tags"])


def test_tag_evidence_json_equals_the_generic_encoder():
    import json

    from nlp_udfs.taxonomy import TagMatch, tag_evidence_json

    matches = [
        TagMatch("物流体验-时效性", "物流*慢", '物流"太慢"了\\n 😡', "negative", -0.8123, 0),
        TagMatch("a\tb", "x", "</script>", "neutral", 0.0, 3),
        TagMatch("c", "y", "z", "positive", 1.0, 5),
    ]
    assert tag_evidence_json(matches) == json.dumps([m.as_evidence() for m in matches], ensure_ascii=False)
    assert json.loads(tag_evidence_json(matches))[0]["clause"] == '物流"太慢"了\\n 😡'
