"""mask_pii: mobiles in every contract format, landlines, ID check digit, Luhn cards, e-mail."""

import json
import re

import pytest

from nlp_udfs.enrich import enrich
from nlp_udfs.pii import is_valid_id_card, luhn_valid, mask_pii
from nlp_udfs.taxonomy import Taxonomy

VALID_ID = "110105199003071239"
VALID_ID_X = "44030419851231002X"
INVALID_ID = "110105199003071234"  # right shape, wrong check digit (e.g. an order number)
VALID_CARD = "6222021234567890128"  # 19 digits, Luhn ok
VALID_CARD_16 = "6228480012345671"
INVALID_CARD = "6222021234567890127"  # Luhn fails


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


def test_valid_id_masked_invalid_stays():
    assert mask_pii(f"身份证{VALID_ID}") == "身份证[ID]"
    assert mask_pii(f"身份证{VALID_ID_X}号") == "身份证[ID]号"
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


def test_bank_card_failing_luhn_stays():
    assert mask_pii(f"卡号{INVALID_CARD}") == f"卡号{INVALID_CARD}"


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
        f"我叫张三,电话138****8000,座机010-****5678,身份证[ID],卡号[CARD],邮箱 [EMAIL],订单{INVALID_ID}"
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
