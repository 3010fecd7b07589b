"""mask_pii: mobiles, landlines, ID cards, bank cards, e-mails in every written form; addresses,
names; the near-misses that must stay; quarantine payloads masked by an allow-list of keys."""

import json
import re

import pytest

from nlp_udfs.enrich import enrich
from nlp_udfs.pii import is_valid_id_card, luhn_valid, mask_payload, mask_pii
from nlp_udfs.taxonomy import Taxonomy

VALID_ID = "110105199003071239"
VALID_ID_X = "44030419851231002X"
INVALID_ID = "110105199003071234"  # right shape, wrong check digit: still an ID card
VALID_CARD = "6222021234567890128"  # 19 digits, Luhn ok
VALID_CARD_16 = "6228480012345671"
INVALID_CARD = "6222021234567890127"  # Luhn fails: still a card


@pytest.mark.parametrize(
    "phone",
    ["13800138000", "+86 138 0013 8000", "86-13800138000", "138-0013-8000", "(+86)13800138000",
     "（+86）13800138000", "+8613800138000", "0086 13800138000", "138 0013 8000"],
)
def test_mobile_in_every_contract_format(phone):
    assert mask_pii(f"电话{phone}谢谢") == "电话138****8000谢谢"


def test_full_width_mobile_digits():
    assert mask_pii("电话１３８００１３８０００") == "电话138****8000"


def test_mobile_full_redaction():
    assert mask_pii("电话+86 138 0013 8000", full_redaction=True) == "电话[PHONE]"


def test_digit_runs_that_are_not_mobiles_stay():
    assert mask_pii("订单号138001380001234") == "订单号138001380001234"
    assert mask_pii("编号12800138000") == "编号12800138000"  # 12x is not a mobile prefix
    assert mask_pii("共10086元") == "共10086元"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("座机010-12345678", "座机010-****5678"),
        ("座机0755-1234567", "座机0755-***4567"),
        ("座机(021)87654321", "座机021-****4321"),
        ("座机02087654321", "座机020-****4321"),
    ],
)
def test_landline_keeps_area_code(text, expected):
    assert mask_pii(text) == expected


def test_dates_are_not_landlines():
    assert mask_pii("2025-06-01 10:23:45 下单") == "2025-06-01 10:23:45 下单"


def test_id_check_digit():
    assert is_valid_id_card(VALID_ID)
    assert is_valid_id_card(VALID_ID_X) and is_valid_id_card(VALID_ID_X.lower())
    assert not is_valid_id_card(INVALID_ID)
    assert not is_valid_id_card("1101051990030712")


def test_id_masked_whatever_its_check_digit_but_not_after_an_order_word():
    assert mask_pii(f"身份证{VALID_ID}") == "身份证[ID]"
    assert mask_pii(f"身份证{VALID_ID_X}号") == "身份证[ID]号"
    assert mask_pii(f"身份证{INVALID_ID}") == "身份证[ID]"
    assert mask_pii(f"订单{INVALID_ID}") == f"订单{INVALID_ID}"


def test_id_is_masked_before_mobile_rules_see_it():
    # an ID holds digit runs that a careless mobile rule could eat; it must become [ID] whole
    assert mask_pii(f"{VALID_ID} 13800138000") == "[ID] 138****8000"


def test_luhn():
    assert luhn_valid(VALID_CARD) and luhn_valid(VALID_CARD_16) and luhn_valid("4111111111111111")
    assert not luhn_valid(INVALID_CARD)
    assert not luhn_valid("abc")


def test_bank_card_plain_and_grouped():
    assert mask_pii(f"卡号{VALID_CARD}") == "卡号[CARD]"
    assert mask_pii("卡号6228 4800 1234 5671") == "卡号[CARD]"
    assert mask_pii("卡号6228-4800-1234-5671,谢谢") == "卡号[CARD],谢谢"
    assert mask_pii("卡号6228 4800 1234 5671 12元") == "卡号[CARD] 12元"


def test_bank_card_failing_luhn_is_still_a_card():
    assert mask_pii(f"卡号{INVALID_CARD}") == "卡号[CARD]"
    assert mask_pii("退到 4000 1234 5678 9011 这张") == "退到 [CARD] 这张"


def test_order_numbers_starting_like_dates_are_not_cards():
    # passes Luhn but starts with 2: a card network never issues that, an order number does
    order = "2025060112345678"
    assert luhn_valid(order[:-1] + next(d for d in "0123456789" if luhn_valid(order[:-1] + d)))
    candidate = order[:-1] + next(d for d in "0123456789" if luhn_valid(order[:-1] + d))
    assert mask_pii(f"订单{candidate}") == f"订单{candidate}"


def test_email():
    assert mask_pii("邮箱 Zhang.San@Example.com ") == "邮箱 [EMAIL] "
    assert mask_pii("联系zhang_san+vip@mail.example.com.cn谢谢") == "联系[EMAIL]谢谢"


def test_email_with_phone_local_part_is_email():
    assert mask_pii("13800138000@163.com") == "[EMAIL]"


def test_everything_in_one_text():
    text = (
        f"我叫张三,电话+86 138 0013 8000,座机010-12345678,身份证{VALID_ID},"
        f"卡号{VALID_CARD},邮箱 Zhang.San@Example.com,订单{INVALID_ID}"
    )
    assert mask_pii(text) == (
        f"我叫[NAME],电话138****8000,座机010-****5678,身份证[ID],卡号[CARD],邮箱 [EMAIL],订单{INVALID_ID}"
    )


@pytest.mark.parametrize("value", [None, ""])
def test_empty(value):
    assert mask_pii(value) == ""


def test_text_without_pii_unchanged():
    text = "物流很快,包装也不错,给5星"
    assert mask_pii(text) == text


def test_20000_character_text_is_masked_everywhere():
    text = ("申请退货三天了没人理,电话13800138000,订单O20250601001。" * 600)[:20000]
    masked = mask_pii(text)
    assert "13800138000" not in masked
    assert masked.count("138****8000") == text.count("13800138000")
    assert masked.count("O20250601001") == text.count("O20250601001")  # order numbers are not PII


_RAW_PII = ["13800138000", "0013 8000", "12345678", VALID_ID, VALID_ID_X, VALID_CARD, "6228 4800", "Zhang.San", "example.com"]


def test_pii_never_reaches_any_enrich_output():
    taxonomy = Taxonomy.from_rows(
        [{"tag": "客户服务-响应速度", "keywords": "没人理|电话", "negative_keywords": "", "is_complaint": "true"}]
    )
    text = (
        f"申请退货三天了没人理!!电话+86 138 0013 8000 座机010-12345678 身份证{VALID_ID} {VALID_ID_X} "
        f"卡号{VALID_CARD} 6228 4800 1234 5671 邮箱Zhang.San@Example.com"
    )
    result = enrich(text, taxonomy)
    flat = json.dumps(result, ensure_ascii=False)
    for raw in _RAW_PII:
        assert raw not in flat, raw
    assert "138****8000" in result["text_masked"]
    assert "[PHONE]" in result["text_clean"] and "138" not in result["text_clean"]
    assert result["tags"] == ["客户服务-响应速度"]
    # masked tokens and placeholders never become terms
    assert not any(re.search(r"[0-9*\[\]]", term) or term.lower() in {"phone", "id", "card", "email", "tel"}
                   for term in result["terms"])


# ---- written forms a masker keyed to one spelling misses (issue 14) ----------------------------
@pytest.mark.parametrize(
    "written",
    ["1390-571-2468", "139 057 12468", "139.0571.2468", "139/0571/2468", "139–0571–2468", "139—0571—2468",
     "139 - 0571 - 2468", "１３９．０５７１．２４６８", "139\u30000571\u30002468", "+86.139.0571.2468", "0086-139-0571-2468",
     "(+86) 139 0571 2468", "幺三九零五七幺二四六八", "一三九〇五七一二四六八", "壹叁玖零伍柒壹贰肆陆捌", "139零五七1二468"],
)
def test_mobile_in_any_written_form(written):
    assert mask_pii(f"有事打{written}找我") == "有事打139****2468找我"
    assert mask_pii(f"有事打{written}找我", full_redaction=True) == "有事打[PHONE]找我"


@pytest.mark.parametrize(
    "written",
    ["320102 19881130 4411", "320102-1988-1130-4411", "3201 0219 8811 3044 11", "32010219881130441X",
     "320102 19881130 441x", "320102881130441", "３２０１０２１９８８１１３０４４１１"],
)
def test_id_card_by_shape_any_grouping_any_check_digit_15_or_18(written):
    assert mask_pii(f"证件 {written} 请核对") == "证件 [ID] 请核对"


@pytest.mark.parametrize("written", ["6217 0000 1111 2222 333", "6217-0000-1111-2222", "4392250012345678", "3566 0020 2036 0505"])
def test_card_by_length_without_luhn(written):
    assert mask_pii(f"退款到{written}吧") == "退款到[CARD]吧"


def test_any_long_number_after_a_card_word_is_a_card():
    assert mask_pii("银行卡号：1234 5678 9012 3456") == "银行卡号：[CARD]"


@pytest.mark.parametrize(
    "written",
    ["wang.lei @ qq.com", "wang.lei@qq。com", "wang.lei＠qq．com", "ｗａｎｇ.ｌｅｉ＠ｑｑ.ｃｏｍ", "wang.lei(at)qq.com",
     "wang.lei [at] qq [dot] com", "wang.lei#qq.com", "wang.lei @qq. com"],
)
def test_email_with_spaces_or_full_width_punctuation(written):
    assert mask_pii(f"邮件发到 {written} 谢谢") == "邮件发到 [EMAIL] 谢谢"


@pytest.mark.parametrize(
    ("written", "masked"),
    [("021 6543 2198", "021-****2198"), ("(021)6543-2198", "021-****2198"), ("0571 8765 432", "0571-***5432"),
     ("０２１－６５４３２１９８", "021-****2198"), ("+86 21 6543 2198", "021-****2198"), ("021.6543.2198", "021-****2198")],
)
def test_landline_with_area_code_in_any_written_form(written, masked):
    assert mask_pii(f"办公室{written}工作日") == f"办公室{masked}工作日"
    assert mask_pii(f"办公室{written}工作日", full_redaction=True) == "办公室[TEL]工作日"


def test_local_landline_after_a_phone_word():
    assert mask_pii("座机 6543 2198") == "座机 ****2198"
    assert mask_pii("买了 6543 2198 件") == "买了 6543 2198 件"


@pytest.mark.parametrize(
    "address",
    ["江苏省南京市玄武区中山北路200号", "浙江省杭州市余杭区文一西路969号5幢301室", "成都市武侯区人民南路四段12号",
     "天河区体育西路103号维多利广场B座1201", "朝阳区望京西园三区311号楼2单元1502", "金色家园12栋3单元801室",
     "深圳市南山区科苑路15号", "闵行区七莘路1888弄66号602", "海淀区中关村大街一百二十号", "徐汇区漕溪北路88号B1-1203", "四川省乐山市市中区嘉定北路三十六号"],
)
def test_street_address_masked(address):
    masked = mask_pii(f"收货地址:{address},周末送")
    assert masked == "收货地址:[ADDRESS],周末送", masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [("我叫周杰,想退货", "我叫[NAME],想退货"), ("姓名:欧阳明", "姓名:[NAME]"), ("联系人 黄女士", "联系人 [NAME]"),
     ("收件人:宋佳佳 电话139 0571 2468", "收件人:[NAME] 电话139****2468"), ("收货人是林一", "收货人是[NAME]"),
     ("我叫孙家豪,想退货", "我叫[NAME],想退货"), ("持卡人 何可欣", "持卡人 [NAME]"), ("我是业主董国强", "我是业主[NAME]"),
     ("联系人：马上到", "联系人：马上到"), ("我是高兴的", "我是高兴的")],
)
def test_name_after_a_name_word(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    ["订单号 202511301234567890", "订单号:13905712468", "运单号 SF1390571246800", "快递单号 773098765432101",
     "SKU-13905712468", "货号 A139057124", "条码 6901234567892", "价格¥1390.57,优惠后1288元", "2025-11-30 13:05:57 下单",
     "2025.11.30 发货", "2025/11/30", "客服热线400-820-8820", "800 820 8820", "工单 20251130000123", "积分 13905712",
     "联系人工客服没人理", "我叫不醒他", "北京发货很快", "从上海市寄出的", "这条路很难走", "发票号码 04403200111 12345678"],
)
def test_near_misses_stay(text):
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # a verb between the cue and the name
        ("订票人填的是诸葛明，系统报错", "订票人填的是[NAME]，系统报错"),
        ("名字登记为阎立新了，麻烦改", "名字登记为[NAME]了，麻烦改"),
        ("收件人写成了赖小冬", "收件人写成了[NAME]"),
        # a role then a second cue, and roles on tickets, forms and bookings
        ("乘机人姓名：郁美琴，航班取消了", "乘机人姓名：[NAME]，航班取消了"),
        ("预约人 宣雨桐 电话见订单", "预约人 [NAME] 电话见订单"),
        ("患者：钮春华，复诊挂不上号", "患者：[NAME]，复诊挂不上号"),
        ("联系人写的是范先生", "联系人写的是[NAME]"),
        # someone's name said in passing, with 叫
        ("我儿子叫傅子轩，今年五岁", "我儿子叫[NAME]，今年五岁"),
        ("那个店员叫洪晓梅，服务很好", "那个店员叫[NAME]，服务很好"),
        # a form field (a role word and a colon), 本人
        ("你好，填写人：包振宇", "你好，填写人：[NAME]"),
        ("业主：柏玉兰，3月入住", "业主：[NAME]，3月入住"),
        ("本人蒲海涛，冰箱坏了", "本人[NAME]，冰箱坏了"),
    ],
)
def test_name_after_a_cue_a_verb_or_a_role(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    ["我叫车等了半天", "他叫了外卖", "快递员叫什么我不知道", "名字很好听", "收件人写公司前台就行", "申请人：本人",
     "落款是公司行政部", "我是东北人，买的是高中生用的", "这家饭庄3楼很吵", "去过很多村庄", "本人和孩子都喜欢",
     "本人：周到", "客服：马上处理", "各位先生女士", "//@爱吃草莓的打工人:安全性很好", "@打工人:包装破了"],
)
def test_name_and_address_cues_without_a_name_stay(text):
    assert mask_pii(text) == text


def test_every_name_cue_passes_the_cheap_gate():
    from nlp_udfs.pii import _ANNOUNCING_LEADS, _NAME_GATE, _NAME_HINT

    for lead in _ANNOUNCING_LEADS.replace("[Nn]", "N").split("|"):
        assert _NAME_GATE.search(lead) and _NAME_HINT.search(lead), lead
    for said in ("他叫", "我女儿叫", "我是", "我是车主", "本人", "填写人：", "业主:"):
        assert _NAME_GATE.search(said) and _NAME_HINT.search(said), said


@pytest.mark.parametrize(
    "address",
    ["长宁区仙霞路99号尚嘉中心L3层", "福建省漳州市诏安县四都镇西坑村8组", "浙江省丽水市缙云县壶镇镇前路村56号",
     "海淀区学院路30号科大天工大厦B座1203", "徐汇区天钥桥路58号和盛公寓东楼12层", "黑龙江省绥化市望奎县后三屯5号",
     "湖南省衡阳县西渡镇梅花村3组", "江苏省沭阳县胡集镇张庄村", "四川省南充市仪陇县马鞍镇琳琅村二社15号"],
)
def test_county_town_and_named_building_addresses_masked(address):
    masked = mask_pii(f"寄到{address}，谢谢")
    assert masked == "寄到[ADDRESS]，谢谢", masked


@pytest.mark.parametrize("hotline", ["4006-046-805", "400 6046 805", "800-820-8820", "4001 234 567"])
def test_service_hotlines_in_any_grouping_stay(hotline):
    assert mask_pii(f"打客服热线{hotline}没人接") == f"打客服热线{hotline}没人接"
    assert mask_pii(f"热线{hotline}，我的电话13912345678") == f"热线{hotline}，我的电话139****5678"


def test_a_phone_glued_to_a_number_word_is_cut_out():
    assert mask_pii("第一13905712468") == "第一139****2468"
    assert mask_pii("电话13905712468 2个") == "电话139****2468 2个"


# ---- quarantine payloads: an allow-list of keys ------------------------------------------------
def test_payload_keeps_only_allow_listed_values():
    payload = json.dumps(
        {"review_id": "TM-1", "platform": "tmall", "buyer_open_id": "tm_9a8b7c", "buyer_nick": "小***猫", "rating": 9,
         "content": "寄到静安区南京西路1266号 电话139.0571.2468", "author": {"uid": "7788990011", "followers": 3},
         "new_vendor_field": "139 0571 2468", "contact": 13905712468, "is_repost": False, "order_id": None},
        ensure_ascii=False,
    )
    masked = json.loads(mask_payload(payload))
    assert masked == {"review_id": "TM-1", "platform": "tmall", "buyer_open_id": "***", "buyer_nick": "***", "rating": 9,
                      "content": "***", "author": {"uid": "***", "followers": 3}, "new_vendor_field": "***",
                      "contact": "***", "is_repost": False, "order_id": None}


def test_payload_safe_key_values_are_still_masked():
    masked = mask_payload(json.dumps({"order_id": "139 0571 2468", "survey_name": "回访 wang.lei@qq.com"}))
    assert "2468" not in masked and "wang.lei" not in masked


@pytest.mark.parametrize(
    "line",
    ['{"review_id": "TM-2", "buyer_open_id": "tm_9a8b7c", "content": "南京西路1266号 139.0571.2468", "author": {"uid": "77',
     "R-9,nps_post_purchase,购后,2025-11-30,,M0009,139.0571.2468,,wang.lei@qq.com,9,,,静安区南京西路1266号,S1,SKU-1,O1"],
)
def test_payload_that_is_not_json_keeps_nothing_unknown(line):
    masked = mask_payload(line)
    for secret in ("tm_9a8b7c", "2468", "南京西路", "77", "M0009", "wang.lei"):
        assert secret not in masked, (secret, masked)
    assert "TM-2" in masked or "not JSON" in masked


def test_mask_payload_udf_in_duckdb():
    import duckdb

    from nlp_udfs.duckdb_functions import register_functions

    conn = register_functions(duckdb.connect())
    line = json.dumps({"post_id": "weibo:1", "author": {"uid": "7788990011", "nickname": "猫"}, "text": "138.0013.8000"})
    (masked,) = conn.execute("select voc_mask_payload(?)", [line]).fetchone()
    assert json.loads(masked) == {"post_id": "weibo:1", "author": {"uid": "***", "nickname": "***"}, "text": "***"}
    assert conn.execute("select voc_mask_payload(null)").fetchone()[0] == ""
    # the expression of marts.quarantine_summary, on the four leaks the issue found
    review = json.dumps({"review_id": "JD-7", "buyer_open_id": "jd_5e6f7a", "content": "送到徐汇区漕溪北路88号3号楼1201",
                         "append_content": "电话139.0571.2468", "author": {"uid": "5566778899"}}, ensure_ascii=False)
    (sample,) = conn.execute("select left(voc_mask_payload(?), 500)", [review]).fetchone()
    for leak in ("jd_5e6f7a", "5566778899", "漕溪北路", "88号", "139.0571", "2468"):
        assert leak not in sample, (leak, sample)


def test_check_samples_mask_a_json_payload_by_its_keys():
    from expectations.masking import mask_row

    payload = json.dumps({"review_id": "JD-8", "buyer_open_id": "jd_5e6f7a", "content": "寄到漕溪北路88号"}, ensure_ascii=False)
    row = mask_row({"raw_payload": payload, "reason": "missing_id"})
    assert "jd_5e6f7a" not in row["raw_payload"] and "漕溪北路" not in row["raw_payload"] and "JD-8" in row["raw_payload"]
    assert row["reason"] == "missing_id"


# ---- make eval: masking figures ----------------------------------------------------------------
def test_masking_figures_meet_the_targets_on_the_dev_set():
    from devtools.nlp_eval.masking import format_masking, masking_figures, set_path

    figures = masking_figures("dev", set_path("dev"))
    assert figures.missed_targets() == [], format_masking(figures)


def test_masking_report_names_a_missed_target(tmp_path, capsys):
    from devtools.nlp_eval.__main__ import main

    path = tmp_path / "pii.csv"
    path.write_text(
        "id,kind,text,pii\n"
        "T1,phone,电话 139 0571 2468 谢谢,139 0571 2468\n"
        "T2,phone,打一三九零五七一二四六八,一三九零五七一二四六八\n"
        "T3,near_miss,订单号 202511301234567890,\n",
        encoding="utf-8",
    )
    assert main(["--no-nlp", "--masking", str(path)]) == 0
    out = capsys.readouterr().out
    assert "recall phone      1.000   (2/2)  target >= 0.99 ok" in out
    assert "near-misses masked  0.000   (0/1)" in out and "targets: all met" in out

    from devtools.nlp_eval.masking import format_masking, masking_figures

    figures = masking_figures("tmp", path, mask=lambda text: text)  # a masker that masks nothing
    assert figures.missed_targets() == ["phone recall 0.000 < 0.99"]
    assert "MISSED: phone recall" in format_masking(figures)


def test_masking_report_on_a_set_with_only_its_header(tmp_path):
    from devtools.nlp_eval.masking import format_masking, masking_figures

    path = tmp_path / "empty.csv"
    path.write_text("id,kind,text,pii\n", encoding="utf-8")
    figures = masking_figures("eval", path)
    assert figures.missed_targets() == []
    assert "no rows" in format_masking(figures)


def test_make_eval_reads_the_held_out_set_by_default():
    # the path only: the held-out set itself is read by the lead, not by tests
    from devtools.nlp_eval.masking import MASKING_SETS, set_path
    from devtools.pii_eval.__main__ import SETS

    assert MASKING_SETS == ("dev", "eval") and set_path("eval") == SETS["eval"]


# ---- the independent detector of the marts scan, and the demo's adversarial forms --------------
def _adversarial_clauses(count: int) -> list[str]:
    import random

    from devtools.demo.pii_forms import adversarial_pii

    draw = random.Random(20261207)
    clauses = [adversarial_pii(draw.random(), "15017263849") for _ in range(count * 3)]
    return [clause for clause in clauses if clause][:count]


def test_the_detector_does_not_use_the_masker():
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).parent / "pii_detector.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.startswith("nlp_udfs") for name in imported), imported


def test_the_detector_finds_every_adversarial_clause_unmasked_and_none_masked():
    from pii_detector import find_pii

    clauses = _adversarial_clauses(1500)
    assert len(clauses) == 1500
    missed_raw = [clause for clause in clauses if not find_pii(clause)]
    assert missed_raw == [], missed_raw[:10]
    leaked = [(clause, mask_pii(clause), find_pii(mask_pii(clause))) for clause in clauses if find_pii(mask_pii(clause))]
    assert leaked == [], leaked[:10]


def test_the_detector_leaves_masks_dates_and_short_numbers_alone():
    from pii_detector import find_pii

    for clean in ("电话138****8000", "座机021-****5678", "[ID] [CARD] [EMAIL] [ADDRESS] 我叫[NAME]", "2025-06-01 10:23:45",
                  "2025年6月1日下单,共3件,¥1299.00", "联系人 [NAME]"):
        assert find_pii(clean) == [], clean
    assert find_pii("2025-06-01 13800138000")[0][0] == "digits"


# ---- round 3 (issue 14): forms a blind writer uses that rounds 1-2 did not cover ----------------
@pytest.mark.parametrize(
    "written",
    ["幺三勾洞五拐幺两四六八", "幺三九，零五七一，二四六八", "139、0571、2468", "139, 0571, 2468", "一 三 九 零 五 七 一 二 四 六 八",
     "1 3 9 0 5 7 1 2 4 6 8", "(139) 0571 2468", "（139）0571-2468", "01390571 2468", "+86（139）0571-2468",
     "+86 (0)139 0571 2468", "0086 0139 0571 2468", "1３9-05七1-2468", "壹叁玖 零伍柒壹 贰肆陆捌", "86 139 0571 2468"],
)
def test_mobile_in_radio_numerals_with_commas_brackets_and_trunk_zero(written):
    assert mask_pii(f"有事打{written}找我") == "有事打139****2468找我"
    assert mask_pii(f"有事打{written}找我", full_redaction=True) == "有事打[PHONE]找我"


@pytest.mark.parametrize(("written", "masked"), [("+86 (0)21 6543 2198", "021-****2198"), ("0086 21 6543 2198", "021-****2198")])
def test_landline_with_country_code_and_trunk_zero(written, masked):
    assert mask_pii(f"办公室{written}工作日") == f"办公室{masked}工作日"


def test_a_comma_ends_an_order_number_but_does_not_end_a_phone():
    assert mask_pii("运单号 773098765432101，电话13905712468") == "运单号 773098765432101，电话139****2468"
    assert mask_pii("SF1234567890，13905712468") == "SF1234567890，139****2468"
    assert mask_pii("订单号13905712468，13905712468") == "订单号13905712468，139****2468"


@pytest.mark.parametrize(
    "text",
    ["总价13,905,712,468元", "销量 13,900,571,246 件", "价格分别是129，139，159元", "第1，2，3，4，5，6，7步", "七拐八拐才找到",
     "山洞里没信号", "打勾的选项3个", "一二三四五六七，大家一起来", "尾号2468的手机"],
)
def test_commas_and_radio_numerals_in_ordinary_text_stay(text):
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # a role right before the name, closed by a clause or a verb
        ("客户韩梓萱反馈门锁打不开", "客户[NAME]反馈门锁打不开"),
        ("顾客孟繁星在柜台等了半小时", "顾客[NAME]在柜台等了半小时"),
        ("业主龚文博，电梯又坏了", "业主[NAME]，电梯又坏了"),
        ("会员景若溪：积分没到账", "会员[NAME]：积分没到账"),
        ("用户上官婉清说收不到验证码", "用户[NAME]说收不到验证码"),
        ("客户端木子墨", "客户[NAME]"),
        # more roles on forms, policies and parcels
        ("签收人蒋思远不是我", "签收人[NAME]不是我"),
        ("投保人庞雪梅要求退保", "投保人[NAME]要求退保"),
        ("被保险人 詹浩然 已出院", "被保险人 [NAME] 已出院"),
        ("户主晏建华同意了", "户主[NAME]同意了"),
        ("收款人幸佳怡", "收款人[NAME]"),
        ("委托人：覃志强", "委托人：[NAME]"),
        ("法人薄永军签的字", "法人[NAME]签的字"),
        # someone called X: the given name may hold 可, 家 ...
        ("宝宝叫骆一鸣，今年三岁", "宝宝叫[NAME]，今年三岁"),
        ("我女儿叫卓可馨，在三年级", "我女儿叫[NAME]，在三年级"),
        # names without a Han surname
        ("顾客古丽米热说尺码不对", "顾客[NAME]说尺码不对"),
        ("联系人：买买提·艾力", "联系人：[NAME]"),
        ("姓名 热依拉，手机号见后台", "姓名 [NAME]，手机号见后台"),
        # English cues in mixed text
        ("My name is 尹嘉豪, please call back", "My name is [NAME], please call back"),
        ("I am 车晓东 from 302", "I am [NAME] from 302"),
        ("I'm 钟雅琪（Kiki），退款呢", "I'm [NAME]（Kiki），退款呢"),
        ("Contact: 郝美玲 13905712468", "Contact: [NAME] 139****2468"),
        ("recipient 纪婉儿，地址不变", "recipient [NAME]，地址不变"),
    ],
)
def test_name_after_a_role_an_english_cue_or_with_a_title(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    ["客户经理一直没回电话", "客户端总是闪退", "顾客至上是空话", "业主群里都在骂物业", "用户名改不了", "会员权益很多",
     "客户关系管理系统太难用", "客户明天来取", "客户曾经反映过这个问题", "顾客向店员反映了三次", "房东说下个月涨租",
     "业主方要求整改", "客户常常投诉", "负责人何时回复", "客户张口就骂", "会员卡余额不对", "客户付款后没发货",
     "值班经理态度不好", "班主任很负责", "项目经理没来", "宿管阿姨很热心", "老师傅手艺好", "这位老师讲得好",
     "I'm very happy with the service", "This is 高端产品吗", "my name is not important", "customer service 太差",
     "他叫车走了", "大家都叫他老王"],
)
def test_role_words_and_titles_without_a_name_stay(text):
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("手机139，后面是0571，最后2468", "手机139，后面是****，最后2468"),
        ("电话是139 然后 0571 2468", "电话是139 然后 **** 2468"),
        ("手机前三位139，中间四位0571，后四位2468", "手机前三位139，中间四位****，后四位2468"),
        ("电话1390571，后四位2468", "电话139****，后四位2468"),
        ("手机一三九，后面零五七一，最后二四六八", "手机139，后面****，最后2468"),
    ],
)
def test_mobile_split_by_words_after_a_phone_word(text, masked):
    assert mask_pii(text) == masked
    assert "0571" not in mask_pii(text, full_redaction=True) and "[PHONE]" in mask_pii(text, full_redaction=True)


@pytest.mark.parametrize(
    "text",
    ["买了139件，花了0571元，剩2468个", "打了135分钟电话，退款1280元，运费2468", "手机139，订单号05712468",
     "电话打了3次，等了20分钟", "手机139元一个，0571寄出，2468一箱"],
)
def test_numbers_a_few_words_apart_that_are_no_mobile_stay(text):
    assert mask_pii(text) == text


@pytest.mark.parametrize("lead", ["WeChat", "whatsapp", "Phone No.", "dh", "加V"])
def test_mobile_glued_to_letters_that_say_phone(lead):
    assert mask_pii(f"{lead}13905712468") == f"{lead}139****2468"


@pytest.mark.parametrize("code", ["SKU13905712468", "SKU-V13905712468", "DEV13905712468", "T13905712468"])
def test_mobile_shaped_codes_glued_to_other_letters_stay(code):
    assert mask_pii(code) == code


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("销售经理柴志鹏说三天内回复", "销售经理[NAME]说三天内回复"),
        ("班主任聂思琪，家长会改期了", "班主任[NAME]，家长会改期了"),
        ("会员杭雨辰的订单还没发", "会员[NAME]的订单还没发"),
        ("签名：邬振华", "签名：[NAME]"),
        ("Dear 阚文静，您的退款已到账", "Dear [NAME]，您的退款已到账"),
        ("Hi 郦晓彤, 快递到了", "Hi [NAME], 快递到了"),
    ],
)
def test_name_after_more_roles_greetings_and_titles(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize("text", ["客户高端大气", "会员成绩查询", "顾客石头剪刀布", "学员成绩不错，", "Hi 高端人士", "销售额不错"])
def test_common_words_after_a_role_are_not_names(text):
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("寄到南京（栾小川收）", "寄到南京（[NAME]收）"),
        ("寄给 欧阳娜娜 收", "寄给 [NAME] 收"),
        ("老公韩冬说尺码小了", "老公[NAME]说尺码小了"),
        ("有问题联系郜明轩，13905712468", "有问题联系[NAME]，139****2468"),
    ],
)
def test_name_on_a_parcel_label_or_after_family_and_contact_words(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    ["麻烦马上收，谢谢", "周末收。", "记得签收", "妈妈说不好用", "联系商家没人理", "朋友圈都在晒", "孩子高兴坏了", "儿子周末回来",
     "我老婆买的", "从北京路口过去", "走到路口左转"],
)
def test_family_words_parcel_words_and_crossings_without_a_name_or_place_stay(text):
    assert mask_pii(text) == text


@pytest.mark.parametrize(
    "address",
    ["长沙市雨花区韶山南路932号中南林科大南校区8舍", "郑州市金水区花园路与农业路交叉口东北角", "北京市朝阳区三里屯SOHO 5号楼1503"],
)
def test_dormitory_crossing_and_spaced_building_addresses_masked(address):
    assert mask_pii(f"寄到{address}，谢谢") == "寄到[ADDRESS]，谢谢"


@pytest.mark.parametrize("written", ["ma.lin艾特qq点com", "ma.lin@qq", "ma.lin@163", "ma.lin@foxmail"])
def test_email_with_dot_written_as_a_word_or_a_big_provider_without_its_domain(written):
    assert mask_pii(f"邮箱 {written}，谢谢") == "邮箱 [EMAIL]，谢谢"


@pytest.mark.parametrize("text", ["team @qq 音乐", "转发@qq音乐", "我在@gmail看到"])
def test_mentions_of_a_mail_provider_stay(text):
    assert mask_pii(text) == text


# ---- round 4: recall first ----------------------------------------------------------------
# Numbers: every run of 7-20 digits that no shape recognises is masked as [NUMBER] unless its
# context shows it is not personal. Names: any person noun, then a surname and a given name.


@pytest.mark.parametrize(
    "text",
    [
        "晚上打家里 5830 2716 找我",  # a landline without area code, no phone word
        "有事call我 7305\n2618 谢谢",  # split by a line break
        "号码是 六 二 九 四 八 八 一 七",  # one numeral per token after a number word
        "我的是 1 8 6 2 0 4 4 7 1 3 9 9，麻烦改一下",  # one digit per token, a digit too many for a mobile
        "快递柜那个手机我记得是1592046380，少了一位",  # a mobile with a digit missing
        "打这个：(0)28-6622-913",  # brackets, dashes
    ],
)
def test_an_unrecognised_long_digit_run_is_masked(text):
    masked = mask_pii(text)
    assert masked != text
    assert re.search(r"[0-9]{5}", masked.replace(" ", "").replace("\n", "")) is None, masked


@pytest.mark.parametrize(
    "text",
    [
        "订单 58302716 还没发货",  # a near-miss word right before
        "运单号 JT 7730 2618 5521 在路上",  # letters glued to the number
        "券码 8830 2716 451，过期了吗",
        "这台冰箱卖 1280000元？太贵了",  # a unit after it
        "一共花了￥ 2716438",  # money before it
        "2026-11-30 18 点送到",  # a date and time
        "20261130 那天下的单",  # a compact date
        "服务器 192.168.10.254 连不上",  # a machine address
        "系统版本 23866.3765 有问题",  # a decimal number
        "税号 91330106MA27XK9L0N 开票",  # a code running into letters
        "客服热线 400-820-8820 打不通",  # a 400 service line
        "我的手机 187****2643 收不到验证码",  # a number the customer masked
        "银行卡尾号6617的扣款",  # a last-four reference
        "一二三四五六七，大家一起来",  # numerals alone without a number word
        "退款流水 202611301830271642759914",  # longer than any personal number
        "这条微博阅读量 3820716，点赞也不少",  # a count after a word for one
        "粉丝数突破 12000000 了",
        "累计卖出 2871634多单",  # 多 after it
    ],
)
def test_a_long_number_shown_not_personal_stays(text):
    assert mask_pii(text) == text


def test_a_phone_extension_is_masked_with_the_phone():
    assert mask_pii("隐私号 17026406953-5631 打不通") == "隐私号 170****6953 打不通"
    assert mask_pii("隐私号 17026406953转5631 打不通") == "隐私号 170****6953 打不通"


def test_a_phone_dictated_in_parts_after_a_phone_word_still_keeps_its_ends():
    assert mask_pii("电话前三位139，后八位05712468") in ("电话前三位139，后八位****2468", "电话前三位139，后八位[NUMBER]")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("物业管家蔺晨阳一直不回消息", "物业管家[NAME]一直不回消息"),  # a person noun ending in 家
        ("实习生糜子涵把单子弄丢了", "实习生[NAME]把单子弄丢了"),  # ... in 生
        ("考官叫「莘若彤」", "考官叫「[NAME]」"),  # 叫 and a bracket
        ("护工是宓海平，态度还行", "护工是[NAME]，态度还行"),  # 是 between
        ("【寄件人】闻人静【电话】见单", "【寄件人】[NAME]【电话】见单"),  # a compound surname in brackets
        ("民警殳文杰帮我找回了包", "民警[NAME]帮我找回了包"),  # a rare surname, a verb after
        ("讲解员暨雨萌今天请假", "讲解员[NAME]今天请假"),  # closed by a dictionary word
        ("谢谢仝嘉懿老师的耐心", "谢谢[NAME]老师的耐心"),  # a full name with a title, anywhere
        ("送货的小哥戚子豪人很好", "送货的小哥[NAME]人很好"),  # a family or address word (小哥, 我妈)
        ("这是我妈（滕秀兰）的账户", "这是我妈（[NAME]）的账户"),
        ("寄件方：祁伟明", "寄件方：[NAME]"),  # any form label with a colon, closed by the end
        ("蒯思远投诉了两次都没人理", "[NAME]投诉了两次都没人理"),  # a name opening a sentence, a verb of reporting
    ],
)
def test_a_name_after_any_person_noun_or_before_a_title_is_masked(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "康师傅红烧牛肉面涨价了",  # a brand
        "张先生您好，请问还需要什么",  # a surname with a title and no given name stays
        "高老板人很好",
        "王者荣耀充值失败",  # a word after 者
        "宿管阿姨很热心",  # a job and a title
        "收件人写错了",  # a cue with no name
        "签收人是门卫",
        "店员马上就来了",  # a word that starts with a surname
        "用户名称不能改",
        "师傅自己修好的",  # the cue runs into the candidate (师傅)
        "本人和朋友一起去的",  # 和 is a surname but joins words here
        "钟点工阿姨做事认真",
        "被踢来踢去没人管每次都说会处理",  # 没人 is nobody in particular
        "客服连基本参数都说不清楚",  # 基本 is too frequent a word to be a given name
        "备注：周末送",  # a label, then a word that starts with a surname
        "时间：明天上午",
        "高兴反映一下情况",  # a word before a verb of reporting
        "我姐姐说不好用",
    ],
)
def test_person_nouns_titles_and_surname_words_without_a_name_stay(text):
    assert mask_pii(text) == text


# ---- round 5: names by likelihood (nlp_udfs/names.py) -----------------------------------------
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # any person noun before the name (occupations found by the list or the person-suffix rule)
        ("快递员褚明轩把箱子压扁了", "快递员[NAME]把箱子压扁了"),
        ("保洁阿姨说按摩师龙雅婷手法很好", "保洁阿姨说按摩师[NAME]手法很好"),
        ("维修工匡志强修了两次都没修好", "维修工[NAME]修了两次都没修好"),
        ("我婆婆卞秀珍想办一张老年卡", "我婆婆[NAME]想办一张老年卡"),
        ("列车员晋雨涵态度很好", "列车员[NAME]态度很好"),
        ("设计师钱思远画的图和实物差太多", "设计师[NAME]画的图和实物差太多"),
        # rare and compound surnames
        ("店长訾文静处理得很及时", "店长[NAME]处理得很及时"),
        ("工程师澹台明哲上门很准时", "工程师[NAME]上门很准时"),
        # a verb whose object is a person, a full name with a title
        ("特别感谢濮阳俊杰耐心讲解", "特别感谢[NAME]耐心讲解"),
        ("修空调的谷振宇师傅很专业", "修空调的[NAME]师傅很专业"),
        # a sentence that opens with a name and a comma
        ("冼嘉欣，你们店的导购，答应今天给我换货", "[NAME]，你们店的导购，答应今天给我换货"),
        # 叫 / 是 / 一下 alone before a name that reads like one
        ("上门安装的是栗志宏，很细心", "上门安装的是[NAME]，很细心"),
        ("要表扬一下蒲思琪", "要表扬一下[NAME]"),
        # pinyin names after an English cue
        ("My name is Zhou Yuxuan, order not arrived", "My name is [NAME], order not arrived"),
        ("Dear Mr. Ma Haoran, thanks", "Dear Mr. [NAME], thanks"),
    ],
)
def test_name_by_likelihood_and_context(text, masked):
    assert mask_pii(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        # brand, place and ordinary words that start with a surname
        "王者荣耀更新后一直闪退",
        "马克杯的把手断了",
        "黄焖鸡米饭分量太少",
        "李子有点酸，橙子还行",
        "田园风格的窗帘很好看",
        "温馨提示：周末不发货",
        "合同用宋体打印，字太小",
        "戴森吹风机声音有点大",
        "杨梅到货时已经坏了一半",
        "高铁晚点了四十分钟",
        "金额对不上，多扣了钱",
        "钱迟迟不退，客服也不回",
        "石家庄发货的，三天才到",
        "最满意的是颜色，其次是做工",
        # a bare surname with a title
        "张先生您好，已为您登记",
        "康师傅红烧牛肉面缺货",
        "高老板人不错，下次还来",
        # 于 / 和 / 向 as words, not surnames
        "本人和孩子都很喜欢",
        "顾客向店员反映了问题",
        "师傅明早九点上门",
        # pinyin-looking English that is no name
        "This is Great Wall Motors service",
    ],
)
def test_words_that_start_with_a_surname_stay(text):
    assert mask_pii(text) == text


def test_name_model_reads_the_dictionary():
    from nlp_udfs.names import char_score

    # given-name characters are likelier in names than in text; function characters are not
    assert min(char_score(c) for c in "伟婷涛") > 2 > 0 > max(char_score(c) for c in "的了把")
