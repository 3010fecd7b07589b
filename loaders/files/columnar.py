"""Validated records as Arrow tables: the raw table and its history table.

dlt loads a ``pyarrow.Table`` without its row-by-row normalizer, so the loader builds the rows
that normalizer would have produced from the same records (``loaders.hints`` declares them):

* the raw table: every scalar field of the spec one column, an object field's members
  flattened to ``<object>__<member>`` columns, ``_voc_file``, ``_voc_line``, ``_voc_updated_at``,
  and dlt's ``_dlt_load_id`` and ``_dlt_id`` (a new random row id, as dlt gives a merged row);
* ``<table>_history`` (tickets): the history columns of each version, with their own row ids
  (:class:`HistoryLayout`; a history table has no child table, so it goes as Arrow even where
  its raw table cannot).

Only records of the contract's shape fit (:meth:`ArrowLayout.fits`). A record carrying an
unknown field (drift: a new column, a nested object, a list for a new child table) goes to dlt
as a dict, as before, so its unknown parts land exactly where dlt's normalizer puts them.

Specs with a list field (tickets' messages, members' bound accounts) get no layout
(:func:`arrow_layout`): their records all go as dicts, and only their history rows as Arrow
(:func:`history_layout`). dlt (1.31) writes a child table only
from its normalizer, linked by ``_dlt_parent_id`` and cleared by the merge through
``_dlt_root_id``: an Arrow item sent to a nested table fails the extract (a nested table
belongs to no resource), and an Arrow item sent to a root table whose hints declare nested
tables gives those nested tables the root's columns (``member_id NOT NULL`` in
``members__bound_accounts``), which fails the normalizer's own child rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from dlt.common.normalizers.utils import generate_dlt_ids

from loaders.contracts.spec import VERSION_COLUMN, Kind, RecordSpec
from loaders.hints import history_columns, history_table, raw_table_columns

_ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.TEXT: pa.string(),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Kind.INTEGER: pa.int64(),
    Kind.SCORE: pa.int64(),
    Kind.BOOLEAN: pa.bool_(),
}
_LOADER_COLUMNS = {"_voc_file": pa.string(), "_voc_line": pa.int64(), VERSION_COLUMN: _ARROW_TYPES[Kind.TIMESTAMP]}


@dataclass(frozen=True)
class _Column:
    name: str  # the raw column: ``rating``, ``respondent__phone``
    parent: str | None  # the object field holding it, or None for a top-level field
    key: str  # its key in the record (or in the object)
    type: pa.DataType
    nullable: bool


class ArrowLayout:
    """How the records of one spec become Arrow tables (see the module docstring)."""

    def __init__(self, spec: RecordSpec) -> None:
        self.spec = spec
        hints, _ = raw_table_columns(spec)
        not_null = {name for name, hint in hints.items() if hint.get("nullable") is False}
        columns = [_Column(spec.id_field, None, spec.id_field, pa.string(), False)]
        self._objects: dict[str, frozenset[str]] = {}
        for field_spec in spec.fields:
            if field_spec.kind is Kind.OBJECT:
                if any(child.kind in (Kind.OBJECT, Kind.LIST) for child in field_spec.children):
                    raise ValueError(f"{spec.table}.{field_spec.name}: nested containers are not laid out")
                self._objects[field_spec.name] = frozenset(child.name for child in field_spec.children)
                columns += [
                    _Column(f"{field_spec.name}__{c.name}", field_spec.name, c.name, _ARROW_TYPES[c.kind], True)
                    for c in field_spec.children
                ]
            elif field_spec.kind is Kind.LIST:
                raise ValueError(f"{spec.table}.{field_spec.name}: list fields are not laid out (see arrow_layout)")
            else:
                columns.append(_Column(field_spec.name, None, field_spec.name, _ARROW_TYPES[field_spec.kind], True))
        columns += [
            _Column(name, None, name, arrow_type, name not in not_null) for name, arrow_type in _LOADER_COLUMNS.items()
        ]
        self._columns = tuple(columns)
        self._top_keys = frozenset(c.key for c in columns if c.parent is None) | self._objects.keys()
        self._history = history_layout(spec)

    def fits(self, record: dict[str, Any]) -> bool:
        """Whether the validated ``record`` carries only fields of the contract."""
        if not self._top_keys.issuperset(record):
            return False
        for name, members in self._objects.items():
            value = record.get(name)
            if value and not members.issuperset(value):
                return False
        return True

    def tables(self, records: list[dict[str, Any]], load_id: str) -> list[tuple[str, pa.Table]]:
        """``(table name, Arrow table)`` of the raw table and of its history table, if any."""
        arrays: list[pa.Array] = []
        fields: list[pa.Field] = []
        for column in self._columns:
            if column.parent is None:
                values = [record.get(column.key) for record in records]
            else:
                values = [
                    holder.get(column.key) if (holder := record.get(column.parent)) else None for record in records
                ]
            arrays.append(pa.array(values, type=column.type))
            fields.append(pa.field(column.name, column.type, nullable=column.nullable))
        raw = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        tables = [(self.spec.table, _with_dlt_columns(raw, load_id))]
        if self._history is not None:
            tables.append((self._history.table, self._history.from_raw(raw, load_id)))
        return tables


class HistoryLayout:
    """How validated records become rows of the spec's history table (``loaders.hints``): its
    columns, typed as in the raw table; the id and the version time are its key, never null."""

    def __init__(self, spec: RecordSpec, table: str) -> None:
        self.table = table
        kinds = {field_spec.name: field_spec.kind for field_spec in spec.fields}
        keyed = (spec.id_field, VERSION_COLUMN)
        fields = []
        for name in history_columns(spec):
            if name in _LOADER_COLUMNS:
                arrow_type = _LOADER_COLUMNS[name]
            elif name == spec.id_field:
                arrow_type = pa.string()
            else:
                arrow_type = _ARROW_TYPES[kinds[name]]  # history fields are top-level scalars
            fields.append(pa.field(name, arrow_type, nullable=name not in keyed))
        self._schema = pa.schema(fields)

    def from_records(self, records: list[dict[str, Any]], load_id: str) -> pa.Table:
        """The history rows of ``records`` (validated, with ``_voc_file`` / ``_voc_line``)."""
        arrays = [
            pa.array([record.get(f.name) for record in records], type=f.type) for f in self._schema
        ]
        return _with_dlt_columns(pa.Table.from_arrays(arrays, schema=self._schema), load_id)

    def from_raw(self, raw: pa.Table, load_id: str) -> pa.Table:
        """The history rows of a raw Arrow table built by :class:`ArrowLayout`."""
        return _with_dlt_columns(raw.select(self._schema.names).cast(self._schema), load_id)


def arrow_layout(spec: RecordSpec) -> ArrowLayout | None:
    """The spec's layout, or None when its records must go to dlt as dicts (a list field)."""
    if any(field_spec.kind is Kind.LIST for field_spec in spec.fields):
        return None
    return ArrowLayout(spec)


def history_layout(spec: RecordSpec) -> HistoryLayout | None:
    """The layout of the spec's history table, or None when it keeps no history."""
    table = history_table(spec)
    return None if table is None else HistoryLayout(spec, table)


def _with_dlt_columns(table: pa.Table, load_id: str) -> pa.Table:
    """``table`` with dlt's ``_dlt_load_id`` and a new ``_dlt_id`` per row, as its normalizer adds."""
    rows = table.num_rows
    table = table.append_column(
        pa.field("_dlt_load_id", pa.string(), nullable=False), pa.array([load_id] * rows, type=pa.string())
    )
    return table.append_column(
        pa.field("_dlt_id", pa.string(), nullable=False), pa.array(generate_dlt_ids(rows), type=pa.string())
    )
