"""The PII judge (devtools/pii_eval/judge.py) and the well-formedness of the dev and eval sets.

The data tests only check each row's shape and that the judge can decide it (the PII left in
place is a miss, the PII replaced is a catch); they never run the masker on the eval set.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from devtools.pii_eval.__main__ import format_report
from devtools.pii_eval.judge import (
    KINDS,
    address_detail,
    digit_runs,
    email_local_part,
    judge,
    normalize,
    score,
)

DATA = Path(__file__).parent.parent / "devtools" / "pii_eval"


# --- normalisation and numbers ---------------------------------------------------------------


def test_normalize_reads_full_width_digits_and_chinese_numerals():
    assert normalize("１３８") == "138"
    assert normalize("幺三八零〇两") == "138002"
    assert normalize("壹叁捌玖") == "1389"
    assert normalize("ａｂｃ＠ｑｑ．ｃｏｍ") == "abc@qq.com"


def test_digit_runs_join_separated_groups_but_not_masks_or_words():
    assert digit_runs("电话138 0013-8000。") == ["13800138000"]
    assert digit_runs("138****8000") == ["138", "8000"]
    assert digit_runs("一三八 零零一三 八零零零") == ["13800138000"]
    assert digit_runs("订单123元，共4件") == ["123", "4"]
    assert digit_runs("(+86) 138.0013/8000") == ["8613800138000"]


# --- digit kinds ------------------------------------------------------------------------------

PHONE_TEXT = "快递到了请打13800138000，谢谢"


@pytest.mark.parametrize(
    "masked",
    ["快递到了请打[PHONE]，谢谢", "快递到了请打138****8000，谢谢", "快递到了请打***********，谢谢", "快递到了请打1380，谢谢"],
)
def test_phone_caught_when_at_most_four_digits_in_a_row_survive(masked):
    assert judge("phone", PHONE_TEXT, "13800138000", masked)


@pytest.mark.parametrize(
    "masked",
    [PHONE_TEXT, "快递到了请打13800******，谢谢", "快递到了请打138 0013 ****，谢谢", "快递到了请打一三八零零****，谢谢"],
)
def test_phone_missed_when_five_digits_in_a_row_survive(masked):
    assert not judge("phone", PHONE_TEXT, "13800138000", masked)


def test_phone_written_in_numerals_is_missed_when_left_and_caught_when_masked():
    text = "有事打幺三八 零零幺三 八零零零找我"
    pii = "幺三八 零零幺三 八零零零"
    assert not judge("phone", text, pii, text)
    assert not judge("phone", text, pii, "有事打13800138000找我")  # rewritten as digits is still a leak
    assert judge("phone", text, pii, "有事打[PHONE]找我")


def test_unrelated_numbers_in_the_masked_text_do_not_count_as_a_leak():
    text = "订单3999元，电话13912345678"
    assert judge("phone", text, "13912345678", "订单3999元，电话[PHONE]")


def test_id_card_check_letter_does_not_matter_and_old_ids_count():
    text = "身份证号11010519491231002X，请核实"
    assert not judge("id_card", text, "11010519491231002X", "身份证号110105194912310***，请核实")
    assert judge("id_card", text, "11010519491231002X", "身份证号110***********002X，请核实")
    old = "身份证 110105491231002 登记错了"
    assert not judge("id_card", old, "110105491231002", old)
    assert judge("id_card", old, "110105491231002", "身份证 *************** 登记错了")


def test_card_in_full_width_digits_is_judged_on_its_digits():
    text = "卡号６２２２ ０２０２ ００１１ ２２３３退款"
    pii = "６２２２ ０２０２ ００１１ ２２３３"
    assert not judge("card", text, pii, "卡号6222 0202 0011 2233退款")
    assert judge("card", text, pii, "卡号６２２２ **** **** ２２３３退款")


def test_digit_pii_shorter_than_the_run_is_refused():
    with pytest.raises(ValueError):
        judge("landline", "分机1234", "1234", "分机****")


# --- email ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pii", "local"),
    [
        ("zhang.wei@qq.com", "zhang.wei"),
        ("abc @ qq.com", "abc"),
        ("ABC＠ＱＱ．ＣＯＭ", "abc"),
        ("li_na at 163 dot com", "li_na"),
        ("wangfang[at]126.com", "wangfang"),
        ("wangfang(at)126.com", "wangfang"),
        ("12345678 @qq.com", "12345678"),
    ],
)
def test_email_local_part_in_every_written_form(pii, local):
    assert email_local_part(pii) == local


def test_email_caught_only_when_the_local_part_is_gone():
    text = "发票发到Zhang.Wei@163.com谢谢"
    pii = "Zhang.Wei@163.com"
    assert judge("email", text, pii, "发票发到[EMAIL]谢谢")
    assert judge("email", text, pii, "发票发到z***@163.com谢谢")
    assert not judge("email", text, pii, "发票发到zhang.wei@***谢谢")  # case does not hide it
    assert not judge("email", text, pii, "发票发到zhang. wei@***谢谢")  # nor a space


# --- address ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pii", "detail"),
    [
        ("上海市浦东新区张江路123弄4号602室", "张江路123弄4号602室"),
        ("北京朝阳区建国路88号SOHO现代城2号楼1203", "建国路88号SOHO现代城2号楼1203"),
        ("广东省深圳市南山区科苑路15号", "科苑路15号"),
        ("山东省青岛市市南区香港中路61号", "香港中路61号"),
        ("成都市武侯区幸福小区3栋2单元501", "幸福小区3栋2单元501"),  # 小区 is not a district
    ],
)
def test_address_detail_drops_the_administrative_divisions(pii, detail):
    assert address_detail(pii) == detail


def test_address_keeping_the_city_is_caught_keeping_the_street_number_is_missed():
    pii = "上海市浦东新区张江路123弄4号602室"
    text = f"寄到{pii}，谢谢"
    assert judge("address", text, pii, "寄到上海市浦东新区[ADDRESS]，谢谢")
    assert judge("address", text, pii, "寄到上海市浦东新区张江路***，谢谢")
    assert not judge("address", text, pii, "寄到上海市浦东新区张江路123弄***，谢谢")
    assert not judge("address", text, pii, text)


# --- name -------------------------------------------------------------------------------------


def test_name_caught_when_only_the_surname_survives():
    text = "收货人：林晓燕，电话在订单里"
    assert judge("name", text, "林晓燕", "收货人：林**，电话在订单里")
    assert not judge("name", text, "林晓燕", "收货人：*晓燕，电话在订单里")
    assert not judge("name", text, "林晓燕", text)


def test_compound_surname_alone_is_not_a_leak():
    text = "我叫欧阳明，想投诉"
    assert judge("name", text, "欧阳明", "我叫欧阳*，想投诉")
    assert not judge("name", text, "欧阳明", "我叫*阳明，想投诉")
    with pytest.raises(ValueError):
        judge("name", "联系人司马", "司马", "联系人**")


# --- near-misses and the row contract ---------------------------------------------------------


def test_near_miss_is_right_only_when_left_exactly_as_it_was():
    text = "顺丰单号SF1234567890123，打400-800-1234没人接"
    assert judge("near_miss", text, "", text)
    assert not judge("near_miss", text, "", "顺丰单号SF1234567890123，打[PHONE]没人接")


def test_judge_refuses_malformed_rows():
    with pytest.raises(ValueError):
        judge("phone", "电话13800138000", "13900139000", "电话[PHONE]")  # PII not in the text
    with pytest.raises(ValueError):
        judge("near_miss", "电话13800138000", "13800138000", "电话13800138000")
    with pytest.raises(ValueError):
        judge("passport", "护照E12345678", "E12345678", "护照***")


def test_score_counts_per_kind_and_reports_wrong_rows():
    rows = [
        {"id": "1", "kind": "phone", "text": "电话13800138000", "pii": "13800138000"},
        {"id": "2", "kind": "phone", "text": "电话一三八零零一三八零零零", "pii": "一三八零零一三八零零零"},
        {"id": "3", "kind": "near_miss", "text": "共3999元", "pii": ""},
        {"id": "4", "kind": "near_miss", "text": "订单号202411110012345678", "pii": ""},
    ]
    result = score(rows, lambda text: re.sub(r"\d", "*", text))  # masks every ASCII digit
    assert (result.right["phone"], result.total["phone"]) == (1, 2)
    assert result.wrong_ids == {"phone": ["2"], "near_miss": ["3", "4"]}
    assert result.pii_recall == 0.5
    assert result.near_miss_changed == 1.0
    report = format_report(result, rows, show_errors=1)
    assert "phone" in report and "50.0%" in report and "2 phone: 电话一三八零零一三八零零零" in report


# --- the data files ---------------------------------------------------------------------------


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["id", "kind", "text", "pii"]
        return list(reader)


@pytest.mark.parametrize("name", ["dev.csv", "eval.csv"])
def test_every_row_is_well_formed_and_decidable(name):
    rows = _rows(name)
    assert len({row["id"] for row in rows}) == len(rows)
    for row in rows:
        kind, text, pii = row["kind"], row["text"], row["pii"]
        assert kind in KINDS, row
        if kind == "near_miss":
            assert pii == "", row
            assert judge(kind, text, pii, text)
            continue
        assert text.count(pii) == 1, row
        assert not judge(kind, text, pii, text), f"left in place, the PII must be a miss: {row}"
        assert judge(kind, text, pii, text.replace(pii, "[PII]")), f"masked, the PII must be caught: {row}"


@pytest.mark.parametrize(
    ("name", "minimum"),
    [
        ("dev.csv", {"phone": 280, "id_card": 150, "card": 150, "email": 150, "landline": 100, "address": 140, "name": 150, "near_miss": 370}),
        ("eval.csv", {"phone": 83, "id_card": 45, "card": 45, "email": 45, "landline": 30, "address": 45, "name": 53, "near_miss": 115}),
    ],
)
def test_each_set_covers_every_kind(name, minimum):
    rows = _rows(name)
    if name == "eval.csv" and not rows:
        pytest.skip("eval.csv has only its header until the next round's blind set is dropped in")
    counts = Counter(row["kind"] for row in rows)
    assert all(counts[kind] >= n for kind, n in minimum.items()), counts
    assert sum(counts.values()) >= (1999 if name == "dev.csv" else 461)


# Eval rounds so far: D is dev's own set, E, F, G and H were the eval sets of rounds 1 to 4 (read
# once, then retired into dev); round 5's blind set has ids I.
_RETIRED_PREFIXES = "EFGH"
_EVAL_PREFIX = "I"


def _eval_rows_or_skip_retired() -> list[dict[str, str]]:
    """The current eval rows. While eval.csv still holds a round that was retired into dev (the
    round-4 H set, until the round-5 blind set replaces it), check that it was retired whole, then
    skip."""
    rows = _rows("eval.csv")
    if rows and {row["id"][0] for row in rows} <= set(_RETIRED_PREFIXES):
        dev = {tuple(row.values()) for row in _rows("dev.csv")}
        assert all(tuple(row.values()) in dev for row in rows), "a retired eval row is missing from dev"
        pytest.skip("eval.csv holds a retired round (already in dev) until the next blind set replaces it")
    return rows


def test_dev_holds_the_retired_eval_rows_of_rounds_1_to_4():
    ids = [row["id"] for row in _rows("dev.csv")]
    assert all(i[0] in "D" + _RETIRED_PREFIXES and i[1:].isdigit() for i in ids)
    assert sum(i.startswith("E") for i in ids) == 400
    assert sum(i.startswith("F") for i in ids) == 434
    assert sum(i.startswith("G") for i in ids) == 456
    assert sum(i.startswith("H") for i in ids) == 461
    assert len(ids) == len(set(ids))


def test_ids_name_their_set():
    # dev holds its own D rows and the rows of retired eval rounds; the current eval set has one
    # letter that comes after every dev letter (I in round 5), so no eval id can be a dev id.
    dev_prefixes = {row["id"][0] for row in _rows("dev.csv")}
    assert all(re.fullmatch(r"[DEFGH]\d{4}", row["id"]) for row in _rows("dev.csv"))
    eval_ids = [row["id"] for row in _eval_rows_or_skip_retired()]
    assert all(re.fullmatch(r"[A-Z]\d{4}", i) for i in eval_ids)
    eval_prefixes = {i[0] for i in eval_ids}
    assert len(eval_prefixes) <= 1, eval_prefixes
    assert all(prefix > max(dev_prefixes) for prefix in eval_prefixes), (eval_prefixes, dev_prefixes)
    assert eval_prefixes <= {_EVAL_PREFIX}, eval_prefixes


def test_no_eval_string_appears_in_dev():
    dev, held_out = _rows("dev.csv"), _eval_rows_or_skip_retired()
    dev_texts = [row["text"] for row in dev]
    for row in held_out:
        assert not any(row["text"] in text or text in row["text"] for text in dev_texts), row
    dev_pii = {normalize(row["pii"]) for row in dev if row["pii"]}
    assert not any(normalize(row["pii"]) in dev_pii for row in held_out if row["pii"])
