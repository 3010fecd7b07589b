"""Keyed pseudonyms of identifiers: HMAC-SHA256 under a secret key.

Every identifier-derived key of the warehouse (``one_id``, ``bridge_customer_identifier.id_hash``)
is ``pseudonym(key, kind, value)``: the HMAC-SHA256 of ``kind:value`` under the deployment's
key, as 64 lower-case hex digits. Without the key nobody can compute the pseudonym of a phone
number, so a pseudonym cannot be reversed by trying every phone (an unkeyed hash of an 11-digit
mobile is reversed in hours). The same key always gives the same pseudonym, so they are stable
across runs; another key gives unrelated ones.

``kind`` says what the value is (``phone``, ``email``, ``customer``...) and keeps kinds apart:
the same string as a phone and as a member id gets two unrelated pseudonyms. A kind is lower-case
letters, digits and ``_`` and never contains ``:``, so ``kind:value`` reads back one way only.

The key is any byte string. It reaches dbt's DuckDB connections through the dbt-duckdb plugin
(``nlp_udfs.dbt_plugin``), as text made by ``encode_key`` (``hex:<hex digits>``), so that quotes,
backslashes, ``{{``, ``%`` or bytes that are not UTF-8 never meet a parser; it is never part of
SQL text. This module is pure: it reads no environment and keeps no state.
"""

from __future__ import annotations

import hashlib
import hmac
import re

import pyarrow as pa

# The key of the demo data, and of dbt run by hand without a key: public, so refused on real data
# (orchestration.settings).
DEMO_KEY = b"voc-demo-salt"
KEY_TEXT_PREFIX = "hex:"
SQL_FUNCTION = "voc_pseudonym"
_KIND = re.compile(r"[a-z][a-z0-9_]*")


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``kind:value`` (UTF-8) under ``key``, as 64 lower-case hex digits."""
    return hmac.new(key, _message(kind, value), hashlib.sha256).hexdigest()


def _message(kind: str, value: str) -> bytes:
    if not _KIND.fullmatch(kind):
        raise ValueError(f"a pseudonym kind is lower-case letters, digits and '_', not {kind!r}")
    return f"{kind}:{value}".encode("utf-8", "surrogatepass")


def encode_key(key: bytes) -> str:
    """The key as text that survives an environment variable and dbt's profile rendering:
    ``hex:`` and its bytes in hex (dbt would turn a text like ``123`` into a number)."""
    if not key:
        raise ValueError("a pseudonym key must not be empty")
    return KEY_TEXT_PREFIX + key.hex()


def decode_key(text: str | None) -> bytes:
    """The key ``encode_key`` wrote; an empty or missing text is the demo key."""
    text = "" if text is None else str(text).strip()
    if not text:
        return DEMO_KEY
    if not text.startswith(KEY_TEXT_PREFIX):
        # never echo the text: it is meant to hold a secret
        raise ValueError(f"a pseudonym key is passed as '{KEY_TEXT_PREFIX}<hex digits>' (nlp_udfs.pseudonyms.encode_key)")
    try:
        key = bytes.fromhex(text[len(KEY_TEXT_PREFIX):])
    except ValueError:
        raise ValueError("the pseudonym key text holds something that is not hex digits") from None
    if not key:
        raise ValueError("a pseudonym key must not be empty")
    return key


def pseudonyms(key: bytes, kinds: list[str | None], values: list[str | None]) -> list[str | None]:
    """``pseudonym`` of each (kind, value) pair; None where either is None.

    HMAC (RFC 2104) spelled out on hashlib: the inner and outer SHA-256 states of the key are
    made once and copied per value, about twice as fast as an ``hmac`` object per value.
    """
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
    out: list[str | None] = []
    prefixes: dict[str, bytes] = {}
    for kind, value in zip(kinds, values):
        if kind is None or value is None:
            out.append(None)
            continue
        if kind not in prefixes:
            prefixes[kind] = _message(kind, "")
        mac = inner.copy()
        mac.update(prefixes[kind] + value.encode("utf-8", "surrogatepass"))
        final = outer.copy()
        final.update(mac.digest())
        out.append(final.hexdigest())
    return out


def arrow_function(key: bytes):
    """``voc_pseudonym(kind VARCHAR, value VARCHAR) -> VARCHAR`` as a DuckDB Arrow UDF bound to
    ``key`` (the key lives in this closure, never in SQL)."""

    def voc_pseudonym(kind: pa.ChunkedArray, value: pa.ChunkedArray) -> pa.Array:
        return pa.array(pseudonyms(key, _pylist(kind), _pylist(value)), type=pa.string())

    return voc_pseudonym


def _pylist(column: pa.Array | pa.ChunkedArray) -> list:
    if isinstance(column, pa.ChunkedArray):
        return [value for chunk in column.chunks for value in chunk.to_pylist()]
    return column.to_pylist()


def register(conn, key: bytes):  # noqa: ANN001, ANN201 - a DuckDB connection
    """Register ``voc_pseudonym`` on a DuckDB connection, bound to ``key``; returns ``conn``.
    Registering again (another key) replaces the function."""
    import duckdb

    def create() -> None:
        conn.create_function(
            SQL_FUNCTION,
            arrow_function(key),
            ["VARCHAR", "VARCHAR"],
            "VARCHAR",
            type="arrow",
            null_handling="special",
            side_effects=False,
        )

    try:
        create()
    except duckdb.NotImplementedException:  # registered before on this very connection: replace it
        conn.remove_function(SQL_FUNCTION)
        create()
    except duckdb.CatalogException:  # registered through another cursor of the same database
        exists = conn.execute(
            "select 1 from duckdb_functions() where function_name = ? limit 1", [SQL_FUNCTION]
        ).fetchall()
        if not exists:
            raise
    return conn
