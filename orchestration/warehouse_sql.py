"""Small SQL helpers for code that reads the DuckDB warehouse (alert delivery, asset metadata).

No Dagster import: the pure functions of their callers stay importable on their own.
"""

from __future__ import annotations

from typing import Any


def quote_identifier(name: str) -> str:
    """A DuckDB identifier in double quotes (names come from the manifest or dlt, not from users)."""
    return '"' + name.replace('"', '""') + '"'


def relation(schema: str, table: str) -> str:
    return f"{quote_identifier(schema)}.{quote_identifier(table)}"


def table_exists(con: Any, schema: str, table: str) -> bool:
    """True when the warehouse holds ``schema.table`` (a table or a view)."""
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])
