"""Bring a warehouse loaded by an older loader up to the current raw layout, in place.

Until December 2026 the raw layer kept vendor timestamps as the text received, and staging parsed
them in SQL (differently from the loader: a date-only ``registered_at`` came out 8 hours off). Now
the loader writes UTC ``timestamptz`` columns. dlt never changes the type of an existing column,
so a warehouse from before would go on holding text there, mixed with the new values. This
module converts such columns once, with the same parser the loader uses; every value in them
passed that parser when it was loaded, so nothing becomes null that was not null.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb

from loaders.contracts import FAMILY_SPECS, RecordSpec
from loaders.hints import RAW_DATASET, history_columns, history_table, raw_table_columns
from loaders.timestamps import parse_vendor_timestamp

_UDF = "voc_parse_vendor_timestamp"


def timestamp_columns(spec: RecordSpec) -> set[tuple[str, str]]:
    """``(table, column)`` of every time column the spec's raw, child and history tables have."""
    columns, nested = raw_table_columns(spec)
    found = {(spec.table, name) for name, hint in columns.items() if hint["data_type"] == "timestamp"}
    for list_field, child_columns in nested.items():
        found |= {
            (f"{spec.table}__{list_field}", name)
            for name, hint in child_columns.items()
            if hint["data_type"] == "timestamp"
        }
    history = history_table(spec)
    if history is not None:
        found |= {(history, name) for name in history_columns(spec) if (spec.table, name) in found}
    return found


def _parse_or_null(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_vendor_timestamp(value)
    except ValueError:
        return None


def upgrade_text_timestamps(
    duckdb_path: str | os.PathLike[str], family: str, dataset_name: str = RAW_DATASET
) -> list[str]:
    """Convert the family's raw time columns still typed as text to ``timestamptz``.

    Returns the converted ``table.column`` names (none on a fresh or current warehouse, which
    this only reads). Must run while no other process writes the warehouse.
    """
    if not Path(duckdb_path).is_file():
        return []
    wanted = set().union(*(timestamp_columns(spec) for spec in FAMILY_SPECS[family]))
    with duckdb.connect(str(duckdb_path)) as con:
        text_columns = sorted(
            (table, column)
            for table, column in con.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND data_type = 'VARCHAR'",
                [dataset_name],
            ).fetchall()
            if (table, column) in wanted
        )
        if not text_columns:
            return []
        con.create_function(
            _UDF, _parse_or_null, ["VARCHAR"], "TIMESTAMP WITH TIME ZONE", null_handling="special"
        )
        for table, column in text_columns:
            con.execute(
                f'ALTER TABLE "{dataset_name}"."{table}" ALTER COLUMN "{column}" '
                f'SET DATA TYPE TIMESTAMP WITH TIME ZONE USING {_UDF}("{column}")'
            )
    return [f"{table}.{column}" for table, column in text_columns]
