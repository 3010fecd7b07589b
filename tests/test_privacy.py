"""What the loaders keep of personal data: keyed pseudonyms of identifiers, masked text, and an
allow-listed quarantine payload (loaders.privacy)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from record_guard import TEST_GUARD, TEST_KEY

from loaders.contracts import MEMBER_SPEC, REVIEW_SPEC, SOCIAL_SPEC, SURVEY_SPEC, TICKET_SPEC
from loaders.privacy import (
    RecordGuard,
    keyed_pseudonymizer,
    normalize_email,
    normalize_phone,
    protect_payload,
    protect_record,
)
from loaders.validation import validate_record

PHONES = {
    "13800138000": "13800138000",
    "+86 138 0013 8000": "13800138000",
    "86-13800138000": "13800138000",
    "138-0013-8000": "13800138000",
    "(+86)13800138000": "13800138000",
    "0086 138 0013 8000": "13800138000",
    "１３８００１３８０００": "13800138000",
    "未提供": None,
    "12345": None,
    "0755-12345678": None,
    "": None,
}
EMAILS = {"Zhang.San@Example.com ": "zhang.san@example.com", "  a@b.cn": "a@b.cn", "not an email": None, "": None}
UNIONID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


def pseudonym(kind: str, value: str) -> str:
    return hmac.new(TEST_KEY, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("raw, expected", PHONES.items())
def test_every_contract_phone_format_normalizes_to_one_number(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw, expected", EMAILS.items())
def test_emails_are_trimmed_and_case_folded(raw, expected):
    assert normalize_email(raw) == expected


def test_pseudonyms_are_hmac_sha256_under_the_key_and_kinds_do_not_collide():
    pseudonymize = keyed_pseudonymizer(TEST_KEY)
    assert pseudonymize("phone", "13800138000") == pseudonym("phone", "13800138000")
    assert pseudonymize("phone", "13800138000") != pseudonymize("account", "13800138000")
    assert pseudonymize("phone", "13800138000") != keyed_pseudonymizer(b"another key")("phone", "13800138000")
    for digest in (hashlib.md5, hashlib.sha1, hashlib.sha256):
        assert not digest(b"13800138000").hexdigest().startswith(pseudonymize("phone", "13800138000")[:16])


def test_any_byte_string_is_a_key():
    key = "it's a \"key\" with \\ {{ var }} %s 密钥 \x00".encode() + b"\xff\xfe"
    assert len(keyed_pseudonymizer(key)("email", "a@b.cn")) == 64


def test_the_guard_does_not_show_its_key():
    assert "test-key" not in repr(TEST_GUARD)
    assert "test-key" not in str(RecordGuard(keyed_pseudonymizer(TEST_KEY)))


def _survey(phone: str, email: str, comment: str) -> dict:
    record = validate_record(SURVEY_SPEC, {
        "response_id": "R1", "submitted_at": "2026-11-01T10:00:00+08:00", "channel": "sms",
        "respondent": {"member_id": "M0001", "phone": phone, "unionid": UNIONID, "email": email},
        "answers": {"nps": 3, "comment": comment}, "store_id": "SZ001", "order_id": "202611010001",
    })
    return protect_record(SURVEY_SPEC, record, TEST_GUARD)


def test_a_survey_keeps_pseudonyms_of_its_identifiers_and_masked_text():
    record = _survey("+86 138 0013 8000", "Zhang.San@Example.com ", "打了13800138000三次没人接，邮箱Zhang.San@Example.com")
    respondent = record["respondent"]
    assert respondent == {
        "member_id": "M0001",
        "phone": pseudonym("phone", "13800138000"),
        "unionid": pseudonym("unionid", UNIONID),
        "email": pseudonym("email", "zhang.san@example.com"),
    }
    comment = record["answers"]["comment"]
    assert "13800138000" not in comment and "Zhang.San" not in comment and "zhang.san" not in comment
    assert record["store_id"] == "SZ001" and record["order_id"] == "202611010001"


def test_the_same_person_written_two_ways_gets_one_pseudonym():
    first = _survey("138-0013-8000", "A@B.cn", "好")["respondent"]
    second = _survey("(+86)13800138000", " a@b.cn ", "好")["respondent"]
    assert (first["phone"], first["email"]) == (second["phone"], second["email"])


def test_a_value_that_is_no_identifier_of_its_kind_is_dropped():
    respondent = _survey("0755-12345678", "not an email", "好")["respondent"]
    assert respondent["phone"] is None and respondent["email"] is None


def test_a_text_quoting_an_identifier_of_its_record_gets_the_pseudonym():
    record = validate_record(SOCIAL_SPEC, {
        "post_id": "P1", "platform": "weibo", "created_at": "2026-11-01 10:00:00", "updated_at": "2026-11-01 10:00:00",
        "author": {"uid": "wb_55123", "nickname": "小王"},
        "text": "我的号 wb_55123 被封了", "url": "https://weibo.com/wb_55123/N1",
    })  # an id the masker has no shape for (a long bare digit run it masks itself, as [NUMBER])
    protected = protect_record(SOCIAL_SPEC, record, TEST_GUARD)
    assert protected["author"]["uid"] == pseudonym("account", "wb_55123")
    assert "wb_55123" not in protected["text"] and "[ACCOUNT]" in protected["text"]
    assert pseudonym("account", "wb_55123") not in protected["text"]  # a reader of the text never sees a pseudonym
    assert protected["url"] == "https://weibo.com/" + pseudonym("account", "wb_55123") + "/N1"


def test_tickets_messages_and_members_accounts_are_protected():
    ticket = validate_record(TICKET_SPEC, {
        "ticket_id": "T1", "created_at": "2026-11-01 10:00:00", "channel": "phone",
        "requester": {"name": "张三", "phone": "13900001111", "email": None, "member_id": None},
        "subject": "退款 13900001111", "messages": [{"at": "2026-11-01 10:00:00", "author_role": "customer", "body": "电话13900001111"}],
    })
    ticket = protect_record(TICKET_SPEC, ticket, TEST_GUARD)
    assert ticket["requester"]["name"] == pseudonym("name", "张三")
    assert "13900001111" not in json.dumps(ticket, ensure_ascii=False, default=str)

    member = validate_record(MEMBER_SPEC, {
        "member_id": "M9", "name": "李四", "phone": "13700001111", "email": "x@y.cn", "unionid": UNIONID,
        "registered_at": "2026-01-01", "bound_accounts": [{"platform": "tmall", "account_id": "tb_889900"}],
    })
    member = protect_record(MEMBER_SPEC, member, TEST_GUARD)
    assert member["bound_accounts"] == [{"platform": "tmall", "account_id": pseudonym("account", "tb_889900")}]
    text = json.dumps(member, ensure_ascii=False, default=str)
    for raw in ("13700001111", "x@y.cn", UNIONID, "tb_889900", "李四"):
        assert raw not in text


def test_a_quarantined_record_keeps_an_allow_list():
    raw = json.dumps({
        "review_id": "RV1", "platform": "tmall", "rating": 9, "buyer_open_id": "AAEx7788ab",
        "content": "收货地址上海市浦东新区张江路123弄4号602室，电话138.0013.8000",
        "shipping": {"address": "北京市朝阳区建国路88号", "receiver_phone": "13800138000"},
        "vendor_note": "联系人 13800138000",
    }, ensure_ascii=False)
    kept = json.loads(protect_payload(REVIEW_SPEC, raw, TEST_GUARD))
    assert kept["review_id"] == "RV1" and kept["platform"] == "tmall" and kept["rating"] == 9
    assert kept["buyer_open_id"] == pseudonym("account", "AAEx7788ab")
    assert "13800138000" not in json.dumps(kept["shipping"], ensure_ascii=False)
    assert "13800138000" not in kept["vendor_note"]


def test_an_unparseable_quarantined_line_is_masked_as_text():
    line = '{"response_id": "R9", "respondent": {"phone": "13800138000", "unionid": "%s"' % UNIONID
    kept = protect_payload(SURVEY_SPEC, line, TEST_GUARD)
    assert "13800138000" not in kept and UNIONID not in kept and "R9" in kept
