"""Tests for the dlt file loaders: validation rules and end-to-end loads into DuckDB.

The landing folder is a small hand-written fixture (not the demo generator) with every family,
jsonl + jsonl.gz + CSV with BOM, bad records of every reason, and duplicates whose newer
version sits in the same file or a later one.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from record_guard import TEST_GUARD, pseudonym

from loaders.contracts import FAMILY_SPECS, MEMBER_SPEC, REVIEW_SPEC, SOCIAL_SPEC, SURVEY_SPEC, TICKET_SPEC
from loaders.contracts.surveys import survey_csv_row_to_json_shape
from loaders.families import FAMILIES
from loaders.files.extract import classify_line
from loaders.files.readers import discover_files, is_jsonl_name, read_csv_rows, read_jsonl_lines
from loaders.pipeline import (
    load_all,
    load_family,
    make_pipeline,
    pipeline_name,
    pipelines_dir_for,
)
from loaders.privacy import protect_payload
from loaders.sources import SOURCES
from loaders.validation import Rejected, validate_record, validate_survey_csv_row

pytestmark = pytest.mark.dlt

UTC = timezone.utc


def _validator(spec):
    return lambda value: validate_record(spec, value)


validate_survey = _validator(SURVEY_SPEC)
validate_ticket = _validator(TICKET_SPEC)
validate_review = _validator(REVIEW_SPEC)
validate_social_post = _validator(SOCIAL_SPEC)
validate_member = _validator(MEMBER_SPEC)

# --- validation unit tests ------------------------------------------------------------------------


def _survey(**overrides):
    record = {
        "response_id": "R-1",
        "survey_id": "nps_post_purchase",
        "submitted_at": "2025-06-01T10:23:45+08:00",
        "updated_at": "2025-06-01T10:23:45+08:00",
        "respondent": {"member_id": "M1", "phone": "13800138000", "unionid": None, "email": None},
        "answers": {"nps": 9, "csat": 4, "ces": None, "comment": "物流很快"},
    }
    record.update(overrides)
    return record


def test_valid_survey_is_normalized_without_mutating_input():
    source = _survey(updated_at=1748871000, respondent={"phone": 13800138000}, utm="x")
    snapshot = json.dumps(source, sort_keys=True)
    record = validate_survey(source)
    assert not isinstance(record, Rejected)
    assert json.dumps(source, sort_keys=True) == snapshot
    # every vendor time becomes a UTC datetime, parsed once here
    assert record["updated_at"] == datetime(2025, 6, 2, 13, 30, tzinfo=UTC)  # epoch seconds
    assert record["submitted_at"] == datetime(2025, 6, 1, 2, 23, 45, tzinfo=UTC)
    assert record["respondent"]["phone"] == "13800138000"
    assert record["utm"] == "x"  # unknown field kept
    assert record["_voc_updated_at"] == datetime(2025, 6, 2, 13, 30, tzinfo=UTC)


def test_int_id_becomes_text_and_version_falls_back_to_creation_time():
    record = validate_ticket({"ticket_id": 10023, "created_at": "2025-06-02 20:41:07"})
    assert record["ticket_id"] == "10023"
    assert record["_voc_updated_at"] == datetime(2025, 6, 2, 12, 41, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, reason",
    [
        ([1, 2], "not_an_object"),
        ("text", "not_an_object"),
        (_survey(response_id=None), "missing_id"),
        (_survey(response_id="  "), "missing_id"),
        ({k: v for k, v in _survey().items() if k != "response_id"}, "missing_id"),
        (_survey(response_id={"id": 1}), "wrong_type:response_id"),
        (_survey(response_id=True), "wrong_type:response_id"),
        (_survey(submitted_at="yesterday"), "bad_timestamp:submitted_at"),
        (_survey(updated_at=True), "bad_timestamp:updated_at"),
        (_survey(updated_at=None, submitted_at=None), "bad_timestamp:updated_at"),
        (_survey(answers={"nps": 11}), "out_of_range:nps"),
        (_survey(answers={"nps": -1}), "out_of_range:nps"),
        (_survey(answers={"csat": 0}), "out_of_range:csat"),
        (_survey(answers={"ces": 8}), "out_of_range:ces"),
        (_survey(answers={"nps": "nine"}), "wrong_type:nps"),
        (_survey(answers={"nps": 9.5}), "wrong_type:nps"),
        (_survey(answers={"nps": True}), "wrong_type:nps"),
        (_survey(answers="great"), "wrong_type:answers"),
        (_survey(respondent={"phone": ["138"]}), "wrong_type:respondent.phone"),
        (_survey(channel={"name": "sms"}), "wrong_type:channel"),
    ],
)
def test_survey_rejections(value, reason):
    result = validate_survey(value)
    assert isinstance(result, Rejected)
    assert result.reason == reason


def test_rejection_carries_record_id_when_known():
    assert validate_survey(_survey(answers={"nps": 11})) == Rejected("out_of_range:nps", "R-1")
    assert validate_survey([1]) == Rejected("not_an_object", None)


def test_scores_accept_digit_strings_and_integral_floats():
    record = validate_survey(_survey(answers={"nps": " 10 ", "csat": 5.0, "ces": ""}))
    assert record["answers"] == {"nps": 10, "csat": 5, "ces": None}


@pytest.mark.parametrize(
    "validate, value, reason",
    [
        (validate_ticket, {"ticket_id": 1, "created_at": "2025-06-01", "messages": "hi"}, "wrong_type:messages"),
        (validate_ticket, {"ticket_id": 1, "created_at": "2025-06-01", "messages": [{"at": "soon"}]}, "bad_timestamp:messages.at"),
        (validate_review, {"review_id": "JD-1", "created_at": "2025-06-01", "rating": 6}, "out_of_range:rating"),
        (validate_review, {"review_id": "JD-1", "created_at": "2025-06-01", "rating": "five"}, "wrong_type:rating"),
        (validate_review, {"review_id": "JD-1", "created_at": "2025-06-01", "has_images": "yes"}, "wrong_type:has_images"),
        (validate_social_post, {"post_id": "w:1", "published_at": "2025/06/01"}, "bad_timestamp:published_at"),
        (validate_social_post, {"post_id": "w:1", "published_at": 1, "author": {"followers": "many"}}, "wrong_type:author.followers"),
        (validate_member, {"member_id": "M1", "name": "张三"}, "bad_timestamp:updated_at"),
        (validate_member, {"member_id": "M1", "updated_at": "2025-06-01", "bound_accounts": [1]}, "wrong_type:bound_accounts"),
    ],
)
def test_other_family_rejections(validate, value, reason):
    result = validate(value)
    assert isinstance(result, Rejected) and result.reason == reason


def test_csv_row_is_restructured_with_empty_strings_as_null():
    row = {
        "response_id": "R-9", "survey_id": "s", "submitted_at": "2025-06-01 08:00:00",
        "updated_at": "", "member_id": "", "phone": "138-0013-8000", "nps": "7", "csat": "",
        "comment": "还行", " campaign ": "618",
    }
    shaped = survey_csv_row_to_json_shape(row)
    assert shaped["respondent"] == {"member_id": None, "phone": "138-0013-8000"}
    assert shaped["answers"] == {"nps": "7", "csat": None, "comment": "还行"}
    assert shaped["campaign"] == "618" and shaped["updated_at"] is None
    record = validate_survey_csv_row(row)
    assert record["answers"]["nps"] == 7
    assert record["_voc_updated_at"] == datetime(2025, 6, 1, 0, 0, tzinfo=UTC)


# --- file readers ------------------------------------------------------------------------------


def test_jsonl_reader_handles_bom_crlf_bad_utf8_and_truncated_gzip(tmp_path):
    plain = tmp_path / "a.jsonl"
    plain.write_bytes(b'\xef\xbb\xbf{"a": 1}\r\n\r\n{"b": NaN}\n\xff\xfe{"c": 2}\n{"d": 3}')
    lines = list(read_jsonl_lines(plain))
    assert [(line.number, line.raw) for line in lines] == [
        (1, '{"a": 1}'), (3, '{"b": NaN}'), (4, '\\xff\\xfe{"c": 2}'), (5, '{"d": 3}'),
    ]
    assert lines[0].value == {"a": 1} and lines[3].value == {"d": 3}
    assert [classify_line(line, lambda v: v) for line in lines[1:3]] == [Rejected("invalid_json"), Rejected("invalid_utf8")]

    truncated = tmp_path / "b.jsonl.gz"
    payload = "".join(json.dumps({"n": n, "square": n * n}) + "\n" for n in range(5000)).encode()
    compressed = gzip.compress(payload)
    truncated.write_bytes(compressed[: len(compressed) // 2])
    lines = list(read_jsonl_lines(truncated))
    assert 0 < len(lines) < 5000
    assert classify_line(lines[-1], lambda v: v) == Rejected("unreadable_file")
    assert lines[-1].number == len(lines) and all("n" in line.value for line in lines[:-1])


def test_csv_rows_that_are_not_utf8_are_quarantined_not_mangled(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(
        b"\xef\xbb\xbfresponse_id,comment\r\nR-1,\xe5\xa5\xbd\r\nR-2,bad \xff\xfe here\r\n"
        b'R-3,"two\nlines \xc3"\r\nR-4,ok\r\n'
    )
    lines = list(read_csv_rows(path))
    assert [(line.number, line.raw) for line in lines] == [
        (2, "R-1,好"), (3, "R-2,bad \\xff\\xfe here"), (4, 'R-3,"two\nlines \\xc3"'), (6, "R-4,ok"),
    ]
    results = [classify_line(line, lambda v: v) for line in lines]
    assert results[1:3] == [Rejected("invalid_utf8")] * 2
    assert results[0] == {"response_id": "R-1", "comment": "好"} and results[3] == {"response_id": "R-4", "comment": "ok"}


def test_hidden_files_and_other_extensions_are_not_discovered(tmp_path):
    for name in ("b.jsonl", "a.jsonl.gz", "c.csv", "notes.txt", ".tmp.jsonl", "sub/d.jsonl", ".git/e.jsonl"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    found = discover_files(tmp_path, is_jsonl_name, root=tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.jsonl.gz", "b.jsonl", "sub/d.jsonl"]


# --- fixture landing folder -----------------------------------------------------------------------


def _jl(obj) -> str:
    return obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)


def _write_jsonl(path: Path, lines: list, gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(_jl(line) + "\n" for line in lines)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")


CSV_HEADER = [
    "response_id", "survey_id", "survey_name", "submitted_at", "updated_at", "channel",
    "member_id", "phone", "unionid", "email", "nps", "csat", "ces", "comment", "store_id",
    "product_sku", "order_id", "campaign",
]


def build_landing(root: Path) -> Path:
    """Write the fixture landing folder and return it."""
    landing = root / "landing"
    s = "surveys"
    _write_jsonl(landing / s / "2025-06-01.jsonl", [
        {"response_id": "R-1", "survey_id": "nps", "submitted_at": "2025-06-01T10:00:00+08:00",
         "updated_at": 1748743200, "channel": "sms", "respondent": {"member_id": "M1", "phone": 13800138000},
         "answers": {"nps": 6, "csat": 3, "ces": None, "comment": "一般"}, "utm_source": "wechat"},
        {"response_id": "R-2", "submitted_at": "2025-06-01 12:00:00", "updated_at": "2025-06-01 12:00:00",
         "answers": {"nps": 3, "csat": "4", "comment": "太慢"}},
        "",
        "{not json",
        [1, 2],
        {"survey_id": "no id"},
        {"response_id": "R-3", "submitted_at": "yesterday"},
        {"response_id": "R-4", "submitted_at": "2025-06-01", "answers": {"nps": 11}},
        {"response_id": "R-5", "submitted_at": "2025-06-01", "answers": "great"},
        # newer version of R-1 later in the same file
        {"response_id": "R-1", "submitted_at": "2025-06-01T10:00:00+08:00",
         "updated_at": "2025-06-02T01:00:00Z", "answers": {"nps": 10, "comment": "改好了"}},
        # older version of R-2 later in the same file: must lose
        {"response_id": "R-2", "submitted_at": "2025-06-01 12:00:00", "updated_at": "2025-05-31 00:00:00",
         "answers": {"nps": 0}},
    ])
    _write_jsonl(landing / s / "2025-06-02.jsonl.gz", [
        # newer version of R-2 in a later file
        {"response_id": "R-2", "submitted_at": "2025-06-01 12:00:00", "updated_at": 1749000000,
         "answers": {"nps": 8, "comment": "后来好了"}},
        {"response_id": "R-6", "submitted_at": "2025-06-02T09:00:00Z", "answers": {"csat": 0}},
        {"response_id": "R-7", "submitted_at": "2025-06-02T09:00:00Z", "answers": {"ces": 8}},
        {"response_id": "R-8", "submitted_at": "2025-06-02T09:00:00Z", "answers": {"ces": 2}},
    ], gz=True)
    csv_path = landing / s / "2025-06-03.csv"
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerow(["R-9", "csat", "CSAT", "2025-06-03 09:00:00", "", "web", "", "138-0013-8000",
                         "", "", "", "5", "", "多行\n评论", "SH001", "", "", "618"])
        writer.writerow(["R-10", "csat", "CSAT", "2025-06-03 09:00:00", "", "web", "", "", "", "",
                         "abc", "", "", "", "", "", "", ""])
        writer.writerow(["R-11", "too", "few"])
        writer.writerow([""] * len(CSV_HEADER))  # blank row: not a record
        # stale version of R-1 (older than both JSON versions)
        writer.writerow(["R-1", "nps", "", "2025-06-01T10:00:00+08:00", "2025-06-01 00:00:00", "", "",
                         "", "", "", "1", "", "", "旧", "", "", "", ""])

    _write_jsonl(landing / "tickets" / "t1.jsonl", [
        {"ticket_id": 10023, "created_at": "2025-06-02 20:41:07", "updated_at": 1748871000,
         "status": "open", "requester": {"name": "张三", "email": " Zhang.San@Example.com "},
         "messages": [{"at": 1748871000, "author_role": "customer", "body": "退货没人理"},
                      {"at": "2025-06-02T21:30:00+08:00", "author_role": "agent", "body": "加急"}]},
        {"ticket_id": 10024, "created_at": "2025-06-02 20:41:07", "messages": "hi"},
        {"ticket_id": 10025, "created_at": "2025-13-01"},
        {"ticket_id": 10023, "created_at": "2025-06-02 20:41:07", "updated_at": "2025-06-03T09:12:00+08:00",
         "status": "solved", "solved_at": "2025-06-03T09:12:00+08:00",
         "messages": [{"at": 1748871000, "author_role": "customer", "body": "退货没人理"},
                      {"at": "2025-06-02T21:30:00+08:00", "author_role": "agent", "body": "加急"},
                      {"at": "2025-06-03T09:12:00+08:00", "author_role": "system", "body": "solved"}]},
    ])
    _write_jsonl(landing / "tickets" / "t2.jsonl.gz", [
        {"ticket_id": "10026", "created_at": "2025-06-04T08:00:00Z", "channel": "email"},
        {"ticket_id": True, "created_at": "2025-06-04T08:00:00Z"},
    ], gz=True)

    _write_jsonl(landing / "reviews" / "r1.jsonl", [
        {"review_id": "JD-1", "platform": "jd", "rating": 2, "content": "快递太慢", "created_at": "2025-06-03T08:00:00Z",
         "modified_at": "2025-06-03T08:00:00Z", "has_images": True},
        {"review_id": "JD-2", "rating": 6, "created_at": "2025-06-03T08:00:00Z"},
        {"review_id": "JD-3", "rating": "five", "created_at": "2025-06-03T08:00:00Z"},
        {"review_id": "JD-4", "rating": 4, "has_images": "yes", "created_at": "2025-06-03T08:00:00Z"},
        {"review_id": "JD-1", "platform": "jd", "rating": 1, "content": "快递太慢", "created_at": "2025-06-03T08:00:00Z",
         "modified_at": "2025-06-10T12:00:00Z", "append_content": "屏幕有亮点", "append_at": "2025-06-10T12:00:00Z",
         "has_images": True},
    ])

    _write_jsonl(landing / "social" / "s1.jsonl", [
        {"post_id": "weibo:1", "platform": "weibo", "author": {"uid": 5566778899, "nickname": "猫", "followers": 1234,
         "verified": False}, "text": "#品牌# 客服打不通", "published_at": 1748910000, "likes": 12, "comments": 3,
         "reposts": 1, "is_repost": False, "ip_location": "上海"},
        {"post_id": "weibo:2", "published_at": "2025/06/01"},
        {"post_id": "weibo:3", "published_at": 1748910000, "author": "someone"},
        # a later crawl of weibo:1: same published_at, newer updated_at, more likes
        {"post_id": "weibo:1", "platform": "weibo", "author": {"uid": "5566778899", "followers": 1300},
         "text": "#品牌# 客服打不通", "published_at": 1748910000, "likes": 40, "updated_at": "2025-06-05 08:00:00",
         "ip_location": "上海"},
    ])

    _write_jsonl(landing / "members" / "m1.jsonl", [
        {"member_id": "M1", "name": "张三", "phone": "138-0013-8000", "tier": "金卡", "registered_at": "2023-02-11",
         "updated_at": "2025-05-01T00:00:00+08:00", "consent_analytics": True,
         "bound_accounts": [{"platform": "jd", "account_id": "jd_7f3a9c"}, {"platform": "weibo", "account_id": 5566778899}]},
        {"member_id": "M2", "name": "李四", "registered_at": "2024-01-01", "updated_at": "2024-01-01"},
        {"member_id": "M3", "name": "王五"},
    ])
    _write_jsonl(landing / "members" / "m2.jsonl", [
        {"member_id": "M1", "name": "张三", "phone": "13900139000", "tier": "黑金", "registered_at": "2023-02-11",
         "updated_at": "2025-06-01T00:00:00+08:00", "consent_analytics": True,
         "bound_accounts": [{"platform": "jd", "account_id": "jd_7f3a9c"}]},
        # exact re-export of the same version: one row, not two
        {"member_id": "M1", "name": "张三", "phone": "13900139000", "tier": "黑金", "registered_at": "2023-02-11",
         "updated_at": "2025-06-01T00:00:00+08:00", "consent_analytics": True,
         "bound_accounts": [{"platform": "jd", "account_id": "jd_7f3a9c"}]},
    ])

    _write_jsonl(landing / "reference" / "stores.jsonl", [
        {"store_id": "SH001", "store_name": "上海一店", "city": "上海", "region": "华东", "opened_at": "2020-01-01"},
        {"store_id": "BJ001", "store_name": "北京一店", "city": "北京", "region": "华北"},
        {"store_name": "无编号"},
    ])
    _write_jsonl(landing / "reference" / "products.jsonl", [
        {"product_sku": "SKU-1001", "product_name": "耳机", "category": "音频", "product_line": "A", "launched_at": "2024-03-01"},
    ])
    # folders and files that are not sources are ignored
    (landing / "_truth").mkdir()
    (landing / "_truth" / "feedback_truth.csv").write_text("feedback_id\n", encoding="utf-8")
    (landing / "surveys" / ".partial.jsonl").write_text("{garbage\n", encoding="utf-8")
    return landing


# Per family: (records read, loaded, quarantined) of the fixture, worked out by hand.
EXPECTED_COUNTS = {
    "surveys": (18, 8, 10),
    "tickets": (6, 3, 3),
    "reviews": (5, 2, 3),
    "social": (4, 2, 2),
    "members": (5, 4, 1),
    "reference": (4, 3, 1),
}

EXPECTED_QUARANTINE = {
    "surveys": {
        ("surveys/2025-06-01.jsonl", 4, None, "invalid_json"),
        ("surveys/2025-06-01.jsonl", 5, None, "not_an_object"),
        ("surveys/2025-06-01.jsonl", 6, None, "missing_id"),
        ("surveys/2025-06-01.jsonl", 7, "R-3", "bad_timestamp:submitted_at"),
        ("surveys/2025-06-01.jsonl", 8, "R-4", "out_of_range:nps"),
        ("surveys/2025-06-01.jsonl", 9, "R-5", "wrong_type:answers"),
        ("surveys/2025-06-02.jsonl.gz", 2, "R-6", "out_of_range:csat"),
        ("surveys/2025-06-02.jsonl.gz", 3, "R-7", "out_of_range:ces"),
        ("surveys/2025-06-03.csv", 4, "R-10", "wrong_type:nps"),
        ("surveys/2025-06-03.csv", 5, None, "malformed_csv_row"),
    },
    "tickets": {
        ("tickets/t1.jsonl", 2, "10024", "wrong_type:messages"),
        ("tickets/t1.jsonl", 3, "10025", "bad_timestamp:created_at"),
        ("tickets/t2.jsonl.gz", 2, None, "wrong_type:ticket_id"),
    },
    "reviews": {
        ("reviews/r1.jsonl", 2, "JD-2", "out_of_range:rating"),
        ("reviews/r1.jsonl", 3, "JD-3", "wrong_type:rating"),
        ("reviews/r1.jsonl", 4, "JD-4", "wrong_type:has_images"),
    },
    "social": {
        ("social/s1.jsonl", 2, "weibo:2", "bad_timestamp:published_at"),
        ("social/s1.jsonl", 3, "weibo:3", "wrong_type:author"),
    },
    "members": {("members/m1.jsonl", 3, "M3", "bad_timestamp:updated_at")},
    "reference": {("reference/stores.jsonl", 3, None, "missing_id")},
}

# The raw-layer tables and columns of the shared spec, with DuckDB types.
T, B, TS, BOOL = "VARCHAR", "BIGINT", "TIMESTAMP WITH TIME ZONE", "BOOLEAN"
META = {"_voc_file": T, "_voc_line": B, "_voc_updated_at": TS}
SPEC_COLUMNS = {
    "surveys": {
        "response_id": T, "survey_id": T, "survey_name": T, "submitted_at": TS, "updated_at": TS,
        "channel": T, "respondent__member_id": T, "respondent__phone": T, "respondent__unionid": T,
        "respondent__email": T, "answers__nps": B, "answers__csat": B, "answers__ces": B,
        "answers__comment": T, "store_id": T, "product_sku": T, "order_id": T, **META,
    },
    "tickets": {
        "ticket_id": T, "created_at": TS, "updated_at": TS, "channel": T, "status": T, "priority": T,
        "category": T, "requester__name": T, "requester__phone": T, "requester__email": T,
        "requester__member_id": T, "assignee_team": T, "assignee": T, "store_id": T,
        "product_sku": T, "subject": T, "first_response_at": TS, "solved_at": TS,
        "satisfaction_rating": T, **META,
    },
    "tickets__messages": {
        "at": TS, "author_role": T, "body": T, "_dlt_parent_id": T, "_dlt_list_idx": B, "_dlt_root_id": T,
    },
    "reviews": {
        "review_id": T, "platform": T, "shop_id": T, "product_sku": T, "order_id": T, "buyer_nick": T,
        "buyer_open_id": T, "rating": B, "content": T, "created_at": TS, "modified_at": TS,
        "append_content": T, "append_at": TS, "has_images": BOOL, "seller_reply": T, **META,
    },
    "social": {
        "post_id": T, "platform": T, "author__uid": T, "author__nickname": T, "author__followers": B,
        "author__verified": BOOL, "text": T, "published_at": TS, "url": T, "likes": B, "comments": B,
        "reposts": B, "is_repost": BOOL, **META,
    },
    "members": {
        "member_id": T, "name": T, "phone": T, "email": T, "unionid": T, "tier": T, "city": T,
        "home_store_id": T, "registered_at": TS, "updated_at": TS, "consent_analytics": BOOL, **META,
    },
    "members__bound_accounts": {"platform": T, "account_id": T, "_dlt_parent_id": T, "_dlt_list_idx": B, "_dlt_root_id": T},
    "stores": {"store_id": T, "store_name": T, "city": T, "region": T, "opened_at": TS, **META},
    "products": {"product_sku": T, "product_name": T, "category": T, "product_line": T, "launched_at": TS, **META},
}
for _family in FAMILIES:
    SPEC_COLUMNS[f"{_family}_quarantine"] = {
        "source": T, "file": T, "line": B, "record_id": T, "reason": T, "raw_payload": T, "quarantined_at": TS,
    }
    SPEC_COLUMNS[f"{_family}_files"] = {
        "source": T, "file": T, "sha256": T, "size_bytes": B, "records_read": B,
        "records_loaded": B, "records_quarantined": B, "loaded_at": TS, "fields_seen": T, "refused_reason": T,
    }


def query(db: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def table_counts(db: Path) -> dict[str, int]:
    tables = [row[0] for row in query(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'")]
    return {t: query(db, f'SELECT count(*) FROM raw."{t}"')[0][0] for t in tables}


def count_records_in_files(folder: Path) -> int:
    """Records the contract says are read: non-blank JSONL lines and non-blank CSV data rows."""
    total = 0
    for path in folder.rglob("*"):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.name.endswith(".csv"):
            with open(path, encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))[1:]
            total += sum(1 for row in rows if any(cell.strip() for cell in row))
        elif path.name.endswith(".jsonl.gz"):
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                total += sum(1 for line in handle if line.strip())
        elif path.name.endswith(".jsonl"):
            total += sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return total


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One full load of the fixture landing folder; tests here only read the warehouse."""
    root = tmp_path_factory.mktemp("voc")
    landing = build_landing(root)
    db = root / "warehouse" / "voc.duckdb"
    infos = load_all(landing, db, TEST_GUARD)
    return landing, db, infos


# --- end-to-end: shape ----------------------------------------------------------------------------


def test_every_spec_table_exists_with_its_columns_and_types(loaded):
    _, db, _ = loaded
    rows = query(db, "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'raw'")
    actual: dict[str, dict[str, str]] = {}
    for table, column, data_type in rows:
        actual.setdefault(table, {})[column] = data_type
    for table, columns in SPEC_COLUMNS.items():
        assert table in actual, f"missing table raw.{table}"
        for column, data_type in columns.items():
            assert actual[table].get(column) == data_type, f"raw.{table}.{column}"


def test_no_variant_columns(loaded):
    _, db, _ = loaded
    variants = query(
        db,
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND position('__v_' IN column_name) > 0",
    )
    assert variants == []


def test_unknown_fields_are_kept(loaded):
    _, db, _ = loaded
    assert query(db, "SELECT utm_source FROM raw.surveys WHERE response_id = 'R-1'") == [(None,)]  # newest R-1 lacks it
    assert query(db, "SELECT campaign FROM raw.surveys WHERE response_id = 'R-9'") == [("618",)]
    assert query(db, "SELECT ip_location FROM raw.social WHERE post_id = 'weibo:1'") == [("上海",)]


# --- end-to-end: versions -------------------------------------------------------------------------


def test_newest_version_wins_in_same_and_later_file(loaded):
    _, db, _ = loaded
    rows = query(
        db,
        "SELECT response_id, answers__nps, updated_at, _voc_file, _voc_line, _voc_updated_at "
        "FROM raw.surveys ORDER BY response_id",
    )
    by_id = {row[0]: row for row in rows}
    assert sorted(by_id) == ["R-1", "R-2", "R-8", "R-9"]
    # newer line 10 of the same file beats line 1, and the stale CSV version loses too
    assert by_id["R-1"][1:5] == (10, datetime(2025, 6, 2, 1, 0, tzinfo=UTC), "surveys/2025-06-01.jsonl", 10)
    # the later gz file has the newest version; the older line 11 lost; epoch stored as its instant
    assert by_id["R-2"][1:5] == (8, datetime(2025, 6, 4, 1, 20, tzinfo=UTC), "surveys/2025-06-02.jsonl.gz", 1)
    assert by_id["R-2"][5] == datetime(2025, 6, 4, 1, 20, tzinfo=UTC)
    # CSV: physical start line (header is line 1), multi-line comment kept, empty -> null
    assert query(db, "SELECT _voc_line, answers__comment, answers__nps, answers__csat, respondent__member_id "
                     "FROM raw.surveys WHERE response_id = 'R-9'") == [(2, "多行\n评论", None, 5, None)]


def test_ticket_newest_version_replaces_its_messages(loaded):
    _, db, _ = loaded
    assert query(db, "SELECT ticket_id, status, updated_at FROM raw.tickets ORDER BY 1") == [
        ("10023", "solved", datetime(2025, 6, 3, 1, 12, tzinfo=UTC)),
        ("10026", None, None),
    ]
    messages = query(
        db,
        "SELECT m.at, m.author_role FROM raw.tickets__messages m JOIN raw.tickets t ON m._dlt_root_id = t._dlt_id "
        "WHERE t.ticket_id = '10023' ORDER BY m._dlt_list_idx",
    )
    assert messages == [(datetime(2025, 6, 2, 13, 30, tzinfo=UTC), "customer"),
                        (datetime(2025, 6, 2, 13, 30, tzinfo=UTC), "agent"),
                        (datetime(2025, 6, 3, 1, 12, tzinfo=UTC), "system")]
    assert query(db, "SELECT count(*) FROM raw.tickets__messages")[0][0] == 3


def test_social_later_crawl_wins_by_updated_at(loaded):
    _, db, _ = loaded
    assert query(db, "SELECT likes, author__followers, updated_at, published_at FROM raw.social") == [
        (40, 1300, datetime(2025, 6, 5, 0, 0, tzinfo=UTC), datetime(2025, 6, 3, 0, 20, tzinfo=UTC))
    ]


def test_members_keep_every_version(loaded):
    _, db, _ = loaded
    rows = query(db, "SELECT member_id, phone, tier, _voc_updated_at FROM raw.members ORDER BY member_id, _voc_updated_at")
    assert rows == [
        ("M1", pseudonym("phone", "13800138000"), "金卡", datetime(2025, 4, 30, 16, 0, tzinfo=UTC)),
        ("M1", pseudonym("phone", "13900139000"), "黑金", datetime(2025, 5, 31, 16, 0, tzinfo=UTC)),
        ("M2", None, None, datetime(2023, 12, 31, 16, 0, tzinfo=UTC)),
    ]
    accounts = query(
        db,
        "SELECT m.phone, b.platform, b.account_id FROM raw.members__bound_accounts b "
        "JOIN raw.members m ON b._dlt_root_id = m._dlt_id ORDER BY 1, 2, 3",
    )
    old_phone, new_phone = pseudonym("phone", "13800138000"), pseudonym("phone", "13900139000")
    jd, weibo = pseudonym("account", "jd_7f3a9c"), pseudonym("account", "5566778899")
    assert sorted(accounts) == sorted([(old_phone, "jd", jd), (old_phone, "weibo", weibo), (new_phone, "jd", jd)])


def test_reference_tables(loaded):
    _, db, _ = loaded
    assert query(db, "SELECT store_id, opened_at, _voc_updated_at FROM raw.stores ORDER BY 1") == [
        ("BJ001", None, None),
        ("SH001", datetime(2019, 12, 31, 16, 0, tzinfo=UTC), datetime(2019, 12, 31, 16, 0, tzinfo=UTC)),
    ]
    assert query(db, "SELECT product_sku FROM raw.products") == [("SKU-1001",)]


# --- end-to-end: accounting -----------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_records_read_equals_loaded_plus_quarantined(loaded, family):
    landing, db, _ = loaded
    read, loaded_n, quarantined = query(
        db,
        f"SELECT sum(records_read), sum(records_loaded), sum(records_quarantined) FROM raw.{family}_files",
    )[0]
    assert (read, loaded_n, quarantined) == EXPECTED_COUNTS[family]
    assert read == loaded_n + quarantined
    assert read == count_records_in_files(landing / family)
    assert query(db, f"SELECT count(*) FROM raw.{family}_quarantine")[0][0] == quarantined
    per_file = query(
        db,
        f"SELECT f.file, f.records_quarantined, count(q.line) FROM raw.{family}_files f "
        f"LEFT JOIN raw.{family}_quarantine q USING (file) GROUP BY ALL",
    )
    assert all(logged == found for _, logged, found in per_file)


def test_files_log_has_hash_size_and_one_row_per_file(loaded):
    landing, db, _ = loaded
    import hashlib

    rows = query(db, "SELECT file, sha256, size_bytes FROM raw.surveys_files ORDER BY file")
    assert [r[0] for r in rows] == ["surveys/2025-06-01.jsonl", "surveys/2025-06-02.jsonl.gz", "surveys/2025-06-03.csv"]
    for file, sha, size in rows:
        data = (landing / file).read_bytes()
        assert sha == hashlib.sha256(data).hexdigest() and size == len(data)


@pytest.mark.parametrize("family", FAMILIES)
def test_quarantine_rows_carry_file_line_payload_and_reason(loaded, family):
    landing, db, _ = loaded
    rows = query(db, f"SELECT source, file, line, record_id, reason, raw_payload, quarantined_at FROM raw.{family}_quarantine")
    assert {(r[1], r[2], r[3], r[4]) for r in rows} == EXPECTED_QUARANTINE[family]
    for source, file, line, _, _, raw_payload, quarantined_at in rows:
        assert source == family and quarantined_at is not None
        path = landing / file
        if file.endswith(".gz"):
            lines = gzip.decompress(path.read_bytes()).decode("utf-8").split("\n")
        else:
            lines = path.read_text(encoding="utf-8-sig").split("\n")
        # what the quarantine keeps of the line (csv.writer ends rows with \r\n)
        as_read = lines[line - 1].rstrip("\r")
        assert raw_payload in {protect_payload(spec, as_read, TEST_GUARD) for spec in FAMILY_SPECS[family]}


# --- end-to-end: reruns and isolation -------------------------------------------------------------


def _loads(db: Path) -> int:
    return query(db, "SELECT count(*) FROM raw._dlt_loads")[0][0]


def test_reruns_are_idempotent_and_state_survives_losing_the_working_dir(tmp_path):
    landing = build_landing(tmp_path)
    db = tmp_path / "wh" / "voc.duckdb"
    load_all(landing, db, TEST_GUARD)
    counts, loads = table_counts(db), _loads(db)

    # second run: every file is known and unchanged
    infos = load_all(landing, db, TEST_GUARD)
    assert all(info.loads_ids == [] for info in infos.values())
    assert table_counts(db) == counts and _loads(db) == loads

    # the working dirs are gone: dlt restores the state from the warehouse, still nothing new
    shutil.rmtree(pipelines_dir_for(db))
    infos = load_all(landing, db, TEST_GUARD)
    assert all(info.loads_ids == [] for info in infos.values())
    assert table_counts(db) == counts and _loads(db) == loads

    # a new file adds exactly its records; its stale R-1 does not replace the newer one
    _write_jsonl(landing / "surveys" / "2025-06-09.jsonl", [
        {"response_id": "R-100", "submitted_at": "2025-06-09 10:00:00", "answers": {"nps": 9}},
        {"response_id": "R-101", "submitted_at": "2025-06-09 11:00:00", "answers": {"nps": 2}},
        {"response_id": "R-1", "submitted_at": "2025-06-01T10:00:00+08:00", "updated_at": "2025-06-01 11:00:00",
         "answers": {"nps": 1}},
        {"response_id": "R-102", "submitted_at": "never"},
    ])
    info = load_family("surveys", landing, db, TEST_GUARD)
    assert len(info.loads_ids) == 1
    after = table_counts(db)
    assert after["surveys"] == counts["surveys"] + 2
    assert after["surveys_quarantine"] == counts["surveys_quarantine"] + 1
    assert after["surveys_files"] == counts["surveys_files"] + 1
    assert query(db, "SELECT answers__nps, _voc_file FROM raw.surveys WHERE response_id = 'R-1'") == [
        (10, "surveys/2025-06-01.jsonl")
    ]
    new_load = query(db, "SELECT DISTINCT _dlt_load_id FROM raw.surveys WHERE _voc_file = 'surveys/2025-06-09.jsonl'")
    assert new_load == [(info.loads_ids[0],)]
    untouched = [t for t in counts if not t.startswith(("surveys", "_dlt"))]
    assert {t: after[t] for t in untouched} == {t: counts[t] for t in untouched}

    # same for a table with a child table: the stale ticket keeps neither its row nor messages
    _write_jsonl(landing / "tickets" / "t3.jsonl", [
        {"ticket_id": 10023, "created_at": "2025-06-02 20:41:07", "updated_at": 1748871000, "status": "open",
         "messages": [{"at": 1748871000, "author_role": "customer", "body": "旧"}]},
        {"ticket_id": 10027, "created_at": "2025-06-05 08:00:00",
         "messages": [{"at": "2025-06-05 08:00:00", "author_role": "customer", "body": "新"}]},
    ])
    load_family("tickets", landing, db, TEST_GUARD)
    assert query(db, "SELECT ticket_id, status FROM raw.tickets ORDER BY 1") == [
        ("10023", "solved"), ("10026", None), ("10027", None)
    ]
    assert query(db, "SELECT count(*) FROM raw.tickets__messages") == [(4,)]

    # a changed file is read again; its quarantine rows are replaced, not piled up
    _write_jsonl(landing / "surveys" / "2025-06-09.jsonl", [
        {"response_id": "R-100", "submitted_at": "2025-06-09 10:00:00", "answers": {"nps": 9}},
        {"response_id": "R-101", "submitted_at": "2025-06-09 11:00:00", "updated_at": "2025-06-09 12:00:00",
         "answers": {"nps": 3}},
        {"response_id": "R-102", "submitted_at": "2025-06-09 13:00:00"},
    ])
    load_family("surveys", landing, db, TEST_GUARD)
    assert query(db, "SELECT count(*) FROM raw.surveys_quarantine WHERE file = 'surveys/2025-06-09.jsonl'") == [(0,)]
    assert query(db, "SELECT records_read, records_loaded, records_quarantined FROM raw.surveys_files "
                     "WHERE file = 'surveys/2025-06-09.jsonl'") == [(3, 3, 0)]
    assert query(db, "SELECT answers__nps FROM raw.surveys WHERE response_id = 'R-101'") == [(3,)]
    assert table_counts(db)["surveys"] == counts["surveys"] + 3


def test_second_warehouse_loads_everything_independently(loaded, tmp_path):
    landing, first_db, _ = loaded
    second_db = tmp_path / "other" / "voc.duckdb"
    assert pipeline_name("surveys", first_db, landing) != pipeline_name("surveys", second_db, landing)
    assert pipeline_name("surveys", first_db, landing) == pipeline_name("surveys", first_db, landing)
    infos = load_all(landing, second_db, TEST_GUARD)
    assert all(len(info.loads_ids) == 1 for info in infos.values())

    def data_counts(db: Path) -> dict[str, int]:
        return {t: n for t, n in table_counts(db).items() if not t.startswith("_dlt")}

    assert data_counts(second_db) == data_counts(first_db)
    assert pipelines_dir_for(second_db).is_dir()
    assert pipelines_dir_for(second_db) != pipelines_dir_for(first_db)


def test_sources_are_cheap_to_build_and_pipelines_stay_beside_the_warehouse(tmp_path):
    missing = tmp_path / "does-not-exist"
    for family, make_source in SOURCES.items():
        source = make_source(str(missing), TEST_GUARD)  # no filesystem access until iterated
        assert source.name == family and source.resources
    assert not missing.exists()
    pipeline = make_pipeline("tickets", tmp_path / "wh" / "voc.duckdb", missing)
    assert Path(pipeline.pipelines_dir) == tmp_path / "wh" / ".dlt_pipelines"
    assert pipeline.dataset_name == "raw"
    assert pipeline.pipeline_name.startswith("voc_tickets_")


def test_dbt_loader_families_var_names_the_loader_families():
    """The loader staging models loop over a dbt var; it must list exactly the loaders' families."""
    import yaml

    from orchestration.settings import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert tuple(project["vars"]["voc_loader_families"]) == FAMILIES
