"""Keyed pseudonyms (nlp_udfs.pseudonyms): HMAC-SHA256 under the deployment's key, kinds kept
apart, any byte string a key, and the DuckDB function bound to its key."""

from __future__ import annotations

import hashlib
import hmac

import duckdb
import pytest

from nlp_udfs import pseudonyms
from nlp_udfs.pseudonyms import DEMO_KEY, decode_key, encode_key, pseudonym

ODD_KEY = "k'\"\\{{ %s }}é键\x00\xff".encode("utf-8", "surrogatepass") + b"\xfe\x80"


def test_a_pseudonym_is_the_hmac_sha256_of_kind_and_value():
    key = b"secret key"
    expected = hmac.new(key, b"phone:13800138000", hashlib.sha256).hexdigest()
    assert pseudonym(key, "phone", "13800138000") == expected
    assert len(expected) == 64 and expected == expected.lower()
    assert pseudonym(key, "email", "张三@例子.cn") == hmac.new(key, "email:张三@例子.cn".encode(), hashlib.sha256).hexdigest()


def test_kinds_keys_and_values_are_kept_apart():
    key = b"k"
    assert pseudonym(key, "phone", "13800138000") != pseudonym(key, "member_id", "13800138000")
    assert pseudonym(key, "phone", "13800138000") != pseudonym(b"k2", "phone", "13800138000")
    assert pseudonym(key, "phone", "13800138000") == pseudonym(key, "phone", "13800138000")  # stable
    # not the unkeyed digest of the same text
    assert pseudonym(key, "phone", "13800138000") != hashlib.sha256(b"phone:13800138000").hexdigest()


@pytest.mark.parametrize("kind", ["", "Phone", "phone:x", "a b", "1phone"])
def test_a_kind_that_could_blur_the_message_is_refused(kind):
    with pytest.raises(ValueError):
        pseudonym(b"k", kind, "v")


def test_any_byte_string_survives_the_key_text():
    for key in (ODD_KEY, b"123", b"True", b"[1, 2]", bytes(range(256))):
        text = encode_key(key)
        assert text.startswith("hex:") and decode_key(text) == key
    assert decode_key("") == DEMO_KEY and decode_key(None) == DEMO_KEY
    with pytest.raises(ValueError):
        encode_key(b"")


def test_a_malformed_key_text_is_refused_without_echoing_it():
    for text in ("plain secret", "hex:zz-secret", "hex:"):
        with pytest.raises(ValueError) as raised:
            decode_key(text)
        assert "secret" not in str(raised.value)


def test_the_batch_form_matches_one_by_one_and_keeps_nulls():
    kinds = ["phone", None, "email", "phone"]
    values = ["13800138000", "x", None, "13900139000"]
    assert pseudonyms.pseudonyms(ODD_KEY, kinds, values) == [
        pseudonym(ODD_KEY, "phone", "13800138000"), None, None, pseudonym(ODD_KEY, "phone", "13900139000")
    ]


def test_the_duckdb_function_is_bound_to_its_key_and_the_sql_holds_no_key():
    with duckdb.connect() as conn:
        pseudonyms.register(conn, ODD_KEY)
        sql = "select voc_pseudonym(kind, value) from (values ('phone', '13800138000'), ('email', null)) as t(kind, value)"
        rows = conn.execute(sql).fetchall()
        assert rows == [(pseudonym(ODD_KEY, "phone", "13800138000"),), (None,)]
        pseudonyms.register(conn, b"another key")  # registered again: replaced
        assert conn.execute(sql).fetchall()[0][0] == pseudonym(b"another key", "phone", "13800138000")
        big = conn.execute(
            "select count(distinct voc_pseudonym('phone', cast(i as varchar))) from range(5000) as r(i)"
        ).fetchall()[0][0]
        assert big == 5000


def test_the_dbt_plugin_reads_its_key_from_the_profile_text():
    from nlp_udfs.dbt_plugin import Plugin

    plugin = Plugin("dbt_plugin", {"pseudonym_key": encode_key(ODD_KEY)})
    demo = Plugin("dbt_plugin", {"pseudonym_key": ""})
    with duckdb.connect() as conn:
        plugin.configure_connection(conn)
        assert conn.execute("select voc_pseudonym('unionid', 'oU1')").fetchall()[0][0] == pseudonym(ODD_KEY, "unionid", "oU1")
    assert demo._pseudonym_key == DEMO_KEY


def test_the_batch_hmac_matches_the_standard_library_for_every_key_length():
    values = ["13800138000", "", "键", "a" * 300]
    for key in (b"k", b"x" * 64, b"y" * 65, b"z" * 200, ODD_KEY):
        expected = [hmac.new(key, f"phone:{v}".encode(), hashlib.sha256).hexdigest() for v in values]
        assert pseudonyms.pseudonyms(key, ["phone"] * len(values), values) == expected
