"""The raw layer's table layout as dlt hints: which tables one resource writes, their columns,
keys and write dispositions, all derived from the record specs of ``loaders.contracts``.

File mode (``loaders.sources``) and api mode (``loaders.api.sources``) both use these hints, so
both write the very same ``raw.<table>``, ``raw.<table>_history``, ``raw.<family>_quarantine``
and ``raw.<family>_files`` tables.
"""

from __future__ import annotations

from typing import Any, Iterable

import dlt

from loaders.contracts.spec import VERSION_COLUMN, FieldSpec, Kind, RecordSpec

RAW_DATASET = "raw"
LOADER_FILE_FORMAT = "parquet"
"""dlt's default (SQL insert statements) loads DuckDB about 8x slower than parquet files."""
MERGE_DELETE_INSERT = {"disposition": "merge", "strategy": "delete-insert"}
HARD_DELETE_COLUMN = "_voc_deleted"
"""Quarantine rows with this flag only delete: they clear a re-read file's old quarantine rows."""

TIMESTAMPTZ: dict[str, Any] = {"data_type": "timestamp", "timezone": True}
"""Every time column of the raw layer: a UTC instant (DuckDB ``TIMESTAMP WITH TIME ZONE``)."""

_COLUMN_HINT: dict[Kind, dict[str, Any]] = {
    Kind.TEXT: {"data_type": "text"},
    # parsed by loaders.timestamps in validation; declared so the column type never depends on
    # the first value dlt sees
    Kind.TIMESTAMP: TIMESTAMPTZ,
    Kind.INTEGER: {"data_type": "bigint"},
    Kind.SCORE: {"data_type": "bigint"},
    Kind.BOOLEAN: {"data_type": "bool"},
}

QUARANTINE_COLUMNS: dict[str, dict[str, Any]] = {
    "source": {"data_type": "text"},
    "file": {"data_type": "text", "nullable": False},
    "line": {"data_type": "bigint", "nullable": False},
    "record_id": {"data_type": "text"},
    "reason": {"data_type": "text"},
    "raw_payload": {"data_type": "text"},
    "quarantined_at": dict(TIMESTAMPTZ),
    HARD_DELETE_COLUMN: {"data_type": "bool", "hard_delete": True},
}

FILES_COLUMNS: dict[str, dict[str, Any]] = {
    "source": {"data_type": "text"},
    "file": {"data_type": "text", "nullable": False},
    "sha256": {"data_type": "text"},
    "size_bytes": {"data_type": "bigint"},
    "records_read": {"data_type": "bigint"},
    "records_loaded": {"data_type": "bigint"},
    "records_quarantined": {"data_type": "bigint"},
    "loaded_at": dict(TIMESTAMPTZ),
    # file mode only: how many valid records carried each field path (JSON object), see
    # loaders.contracts.drift; why a path was not read (e.g. symlink_outside_landing), else null
    "fields_seen": {"data_type": "text"},
    "refused_reason": {"data_type": "text"},
    # a refused link that is gone again: its row is deleted, not kept
    HARD_DELETE_COLUMN: {"data_type": "bool", "hard_delete": True},
}


def raw_table_columns(spec: RecordSpec) -> tuple[dict[str, dict], dict[str, dict[str, dict]]]:
    """Column hints of a raw table and of its child tables, derived from the record spec.

    Returns ``(columns, nested)``: ``columns`` maps flattened column names (``respondent__phone``)
    to dlt column hints; ``nested`` maps a list field name (``messages``) to its child columns.
    Declaring every column makes it exist even when all values are null, and makes dlt coerce
    values (an int phone in a text column becomes a digit string) instead of adding variant
    ``__v_`` columns.
    """
    columns: dict[str, dict] = {spec.id_field: {"data_type": "text", "nullable": False}}
    nested: dict[str, dict[str, dict]] = {}

    def add(fields: Iterable[FieldSpec], prefix: str) -> None:
        for field_spec in fields:
            name = f"{prefix}{field_spec.name}"
            if field_spec.kind is Kind.OBJECT:
                add(field_spec.children, f"{name}__")
            elif field_spec.kind is Kind.LIST:
                nested[name] = {
                    child.name: dict(_COLUMN_HINT[child.kind]) for child in field_spec.children
                }
            else:
                columns[name] = dict(_COLUMN_HINT[field_spec.kind])

    add(spec.fields, "")
    columns["_voc_file"] = {"data_type": "text"}
    columns["_voc_line"] = {"data_type": "bigint"}
    columns[VERSION_COLUMN] = {
        **TIMESTAMPTZ,
        "dedup_sort": "desc",
        "nullable": VERSION_COLUMN not in spec.primary_key,
    }
    return columns, nested


def newest_version_filter(spec: RecordSpec, dataset_name: str) -> str:
    """SQL ``source_filter`` for the delete-insert merge: drop loaded rows older than the warehouse.

    ``dedup_sort`` only picks the newest version among the rows of one load; without this filter
    an older version arriving in a later file would replace a newer one already loaded. The
    subquery renames its columns so that the unqualified names resolve to the staged row in
    every statement dlt puts the filter in.
    """
    table = f'"{dataset_name}"."{spec.table}"'
    return (
        "NOT EXISTS (SELECT 1 FROM ("
        f'SELECT "{spec.id_field}" AS _voc_k, "{VERSION_COLUMN}" AS _voc_t FROM {table}'
        f') AS _voc_newer WHERE _voc_newer._voc_k = "{spec.id_field}"'
        f' AND _voc_newer._voc_t > "{VERSION_COLUMN}")'
    )


def raw_write_disposition(spec: RecordSpec, dataset_name: str) -> dict[str, str]:
    """Merge (delete-insert) on the primary key; single-key tables keep only the newest version."""
    disposition = dict(MERGE_DELETE_INSERT)
    if not spec.extra_primary_key:
        disposition["source_filter"] = newest_version_filter(spec, dataset_name)
    return disposition


def table_hints(spec: RecordSpec, family: str, dataset_name: str) -> dict[str, Any]:
    """dlt hints for the three tables one resource writes, keyed by table name."""
    columns, nested = raw_table_columns(spec)
    return {
        spec.table: dlt.mark.make_hints(
            table_name=spec.table,
            primary_key=list(spec.primary_key),
            write_disposition=raw_write_disposition(spec, dataset_name),
            columns=columns,
            file_format=LOADER_FILE_FORMAT,
            nested_hints={
                name: dlt.mark.make_nested_hints(columns=child_columns)
                for name, child_columns in nested.items()
            },
        ),
        **history_hints(spec, columns),
        f"{family}_quarantine": dlt.mark.make_hints(
            table_name=f"{family}_quarantine",
            primary_key=["file", "line"],
            # a re-read file replaces all of its quarantine rows, not only the lines still bad
            merge_key="file",
            write_disposition=dict(MERGE_DELETE_INSERT),
            columns=QUARANTINE_COLUMNS,
            file_format=LOADER_FILE_FORMAT,
            nested_hints={},
        ),
        f"{family}_files": dlt.mark.make_hints(
            table_name=f"{family}_files",
            primary_key=["file"],
            write_disposition=dict(MERGE_DELETE_INSERT),
            columns=FILES_COLUMNS,
            file_format=LOADER_FILE_FORMAT,
            nested_hints={},
        ),
    }


def history_table(spec: RecordSpec) -> str | None:
    """Name of the table that keeps every version of the spec's history fields, if it has one."""
    return f"{spec.table}_history" if spec.history_fields else None


def history_columns(spec: RecordSpec) -> tuple[str, ...]:
    """The columns a history table keeps of each version: id, history fields, version time, origin."""
    return (spec.id_field, *spec.history_fields, "_voc_updated_at", "_voc_file", "_voc_line")


def history_hints(spec: RecordSpec, raw_columns: dict[str, dict]) -> dict[str, Any]:
    table = history_table(spec)
    if table is None:
        return {}
    return {
        table: dlt.mark.make_hints(
            table_name=table,
            primary_key=[spec.id_field, "_voc_updated_at"],
            write_disposition=dict(MERGE_DELETE_INSERT),
            columns={
                **{name: raw_columns[name] for name in history_columns(spec)},
                # part of this table's key, so never null and no dedup sort
                VERSION_COLUMN: {**TIMESTAMPTZ, "nullable": False},
            },
            file_format=LOADER_FILE_FORMAT,
            nested_hints={},
        )
    }


def history_rows(spec: RecordSpec, records: list[dict]) -> list[dict]:
    kept = history_columns(spec)
    return [{name: record.get(name) for name in kept} for record in records]


def disable_timestamp_detection() -> None:
    """Call inside a dlt source function: unknown (drifted) fields keep their JSON type.

    A string that looks like a timestamp stays text, so one odd value later cannot split the
    column into variants. Declared timestamp fields are typed by their column hints.
    """
    dlt.current.source_schema().remove_type_detection("iso_timestamp")
