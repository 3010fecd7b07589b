"""Scan a warehouse for unkeyed digests of the input's identifiers (used by the pseudonym tests).

An identifier's unkeyed md5 / sha1 / sha256 can be reversed by trying every phone number, so no
warehouse column may hold one, whole or cut: a value fails when any run of 16 or more hex digits
in it holds the first 16 hex digits of such a digest anywhere (this finds the digest itself, a
digest behind a prefix like ``cust_``, and a digest cut to 16 digits).

The identifiers are read from the landing input (every value under a key that names an
identifier, in the raw and normalized forms the warehouse uses) and from the warehouse's own
identity links (the normalized ``id_type:value`` nodes).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb

# keys whose values identify a person in the landing files (surveys, tickets, reviews, social, members)
IDENTIFIER_KEYS = {
    "phone": "phone", "mobile": "phone", "email": "email", "unionid": "unionid", "union_id": "unionid",
    "member_id": "member_id", "buyer_open_id": "account", "open_id": "account", "uid": "account",
    "account_id": "account", "buyer_nick": "account",
}
HEX_RUN = re.compile(r"[0-9a-f]{16,}")
ALGORITHMS = ("md5", "sha1", "sha256")


def _records(landing: Path) -> Iterator[object]:
    for path in sorted(landing.rglob("*")):
        if not path.is_file() or path.relative_to(landing).parts[0].startswith(("_", ".")):
            continue
        name = path.name
        raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
        text = raw.decode("utf-8", "replace").lstrip("\ufeff")
        if ".csv" in name:
            yield from csv.DictReader(io.StringIO(text))
        elif ".jsonl" in name or name.endswith(".json"):
            for line in text.splitlines():
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def _identifier_values(node: object, kind: str | None = None) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _identifier_values(value, IDENTIFIER_KEYS.get(str(key).lower(), None))
    elif isinstance(node, list):
        for value in node:
            yield from _identifier_values(value, kind)
    elif kind is not None and node not in (None, ""):
        yield kind, str(node)


def _forms(kind: str, value: str) -> set[str]:
    """The raw value and the normalized forms a warehouse might hash. Junk that identifies
    nobody ('无', '未提供': shorter than 5 characters or without a letter or digit) is left out:
    a feedback text '无' has the same md5 as a phone field '无'."""
    if len(value.strip()) < 5 or not re.search(r"[0-9A-Za-z]", value):
        return set()
    forms = {value, value.strip(), value.strip().lower()}
    digits = re.sub(r"\D", "", value)
    if kind == "phone" and digits:
        forms |= {digits, digits[-11:]}
    return {form for form in forms if form}


def landing_identifiers(landing: Path) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for record in _records(landing):
        for kind, value in _identifier_values(record):
            found |= {(kind, form) for form in _forms(kind, value)}
    return found


def warehouse_identifiers(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    rows = con.execute("select distinct id_type, id_value from intermediate.int_identity__links").fetchall()
    return {(kind, value) for kind, value in rows if value is not None}


def digest_prefixes(identifiers: set[tuple[str, str]]) -> dict[str, str]:
    """First 16 hex digits of every unkeyed digest -> what it is the digest of."""
    prefixes: dict[str, str] = {}
    for kind, value in identifiers:
        texts = {value, f"{kind}:{value}"}
        if kind == "account":
            texts.add(f"account:{value}")
        for text in texts:
            for algorithm in ALGORITHMS:
                digest = hashlib.new(algorithm, text.encode("utf-8")).hexdigest()
                prefixes[digest[:16]] = f"{algorithm}({text!r})"
    return prefixes


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every text-bearing column of every table and view."""
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_catalog = current_database() and table_schema not in ('information_schema', 'pg_catalog') "
        "order by 1, 2, 3"
    ).fetchall()
    return [(schema, table, column) for schema, table, column, data_type in rows
            if "VARCHAR" in data_type or "STRUCT" in data_type or "[]" in data_type or "JSON" in data_type]


def unkeyed_digest_hits(warehouse: Path, landing: Path, limit: int = 20) -> tuple[list[str], int, int]:
    """(hits as 'schema.table.column: value = digest', identifiers checked, columns scanned)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        identifiers = landing_identifiers(landing) | warehouse_identifiers(con)
        prefixes = digest_prefixes(identifiers)
        columns = text_columns(con)
        hits: list[str] = []
        for schema, table, column in columns:
            values = con.execute(
                f'select distinct lower(cast("{column}" as varchar)) as v from "{schema}"."{table}" '
                f"where regexp_matches(lower(cast(\"{column}\" as varchar)), '[0-9a-f]{{16}}')"
            ).fetchall()
            for (value,) in values:
                found = next((run[i:i + 16] for run in HEX_RUN.findall(value)
                              for i in range(len(run) - 15) if run[i:i + 16] in prefixes), None)
                if found:
                    hits.append(f"{schema}.{table}.{column}: {value[:80]} holds {prefixes[found]}")
                if len(hits) >= limit:
                    return hits, len(identifiers), len(columns)
    return hits, len(identifiers), len(columns)
