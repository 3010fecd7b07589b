"""Compaction of the lake's raw tables: the merged state the DuckDB raw tables hold, as Parquet.

dlt's filesystem destination merges only into Delta or Iceberg tables, which Spark cannot read
here (no Maven jars), so on plain Parquet dlt falls back to ``append``: every load adds its files
``<load_id>.<file_id>.parquet`` to ``<dataset>/<table>/``, old versions, duplicates and hard-delete
markers included. After each load, compaction replays those loads onto the table's compacted
file with the merge the DuckDB destination runs (``dlt.destinations.sql_jobs``, delete-insert),
one load at a time in load order, and replaces the table's files by one compacted file:

* **keys**: a staged row deletes the stored rows with its primary key or its merge key
  (``<family>_quarantine``: every row of a re-read file);
* **source filter**: the table's ``x-merge-source-filter`` (``loaders.hints.newest_version_filter``)
  is run verbatim, against the stored table, so an older version never replaces a newer one;
* **dedup**: per primary key, the staged row first by ``dedup_sort`` (then by arrival) is kept;
* **hard deletes**: staged rows flagged in the ``hard_delete`` column only delete;
* **nested tables** (``tickets__messages``, ``members__bound_accounts``, drifted lists) follow
  their root row through ``_dlt_root_id``: they go when it is deleted and come with it.

The merge runs in an in-memory DuckDB over Arrow tables (so it works for any filesystem dlt
supports); only loads recorded in ``<dataset>/_dlt_loads`` (committed) are applied.

**Atomic per table chain.** A root table and its nested tables are replaced together: the new
files are written under ``<dataset>/_voc_compaction/``, then a journal naming the moves and the
deletions is written (the commit point), then the files are moved into the table folders and the
replaced ones deleted. A compaction interrupted before the journal leaves the tables as they
were (its temporary files are removed next time); one interrupted after it is rolled forward by
the next compaction, which every lake load runs first.
"""

from __future__ import annotations

import json
import logging
import posixpath
import uuid
from dataclasses import dataclass
from typing import Any, Iterable

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

COMPACTED_PREFIX = "compacted-"
"""Name prefix of a table's compacted file: ``compacted-<last load id>-<token>.parquet``."""
WORK_DIR = "_voc_compaction"
"""``<dataset>/_voc_compaction/``: temporary files and journals (no reader looks there)."""
LOADS_DIR = "_dlt_loads"
_SEQ = "_voc_seq"
_STAGING_SCHEMA = "_voc_staging"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableRule:
    """How loads merge into one table, read from the dlt schema."""

    name: str
    disposition: str
    primary_key: tuple[str, ...] = ()
    merge_key: tuple[str, ...] = ()
    hard_delete: str | None = None
    dedup_sort: tuple[str, str] | None = None
    source_filter: str | None = None
    parent: str | None = None


def table_rules(schema: Any) -> list[list[TableRule]]:
    """The schema's data tables as chains: a root table first, then its nested tables, parents
    before children."""
    tables = schema.data_tables(include_incomplete=False)
    rules: dict[str, TableRule] = {}
    for table in tables:
        columns = table["columns"]

        def having(prop: str, columns: dict = columns) -> tuple[str, ...]:
            return tuple(name for name, hints in columns.items() if hints.get(prop))

        dedup = having("dedup_sort")
        rules[table["name"]] = TableRule(
            name=table["name"],
            disposition=table.get("write_disposition") or "append",
            primary_key=having("primary_key"),
            merge_key=having("merge_key"),
            hard_delete=next(iter(having("hard_delete")), None),
            dedup_sort=(dedup[0], columns[dedup[0]]["dedup_sort"]) if dedup else None,
            source_filter=table.get("x-merge-source-filter"),
            parent=table.get("parent"),
        )
    chains: list[list[TableRule]] = []
    for rule in rules.values():
        if rule.parent is None:
            chain = [rule]
            for member in chain:  # breadth first: parents before their children
                chain += [child for child in rules.values() if child.parent == member.name]
            chains.append(chain)
    return chains


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns (missing ones null) and types."""
    unknown = set(table.column_names) - set(schema.names)
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not in the table's schema")
    arrays = [
        table[field.name].cast(field.type) if field.name in table.column_names else pa.nulls(table.num_rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _nullable(schema: pa.Schema) -> pa.Schema:
    return pa.schema([field.with_nullable(True) for field in schema])


class LakeStore:
    """The files of one dlt dataset on an fsspec filesystem (local folder or object store)."""

    def __init__(self, fs: Any, dataset_path: str) -> None:
        self.fs = fs
        self.dataset_path = dataset_path.rstrip("/")

    def path(self, *parts: str) -> str:
        return posixpath.join(self.dataset_path, *parts)

    def _names(self, directory: str) -> list[str]:
        if not self.fs.exists(directory):
            return []
        return sorted(posixpath.basename(p.rstrip("/")) for p in self.fs.ls(directory, detail=False))

    def parquet_files(self, table: str) -> list[str]:
        """The visible Parquet files of a table: what Spark, DuckDB and pyarrow read."""
        return [
            self.path(table, name)
            for name in self._names(self.path(table))
            if name.endswith(".parquet") and not name.startswith((".", "_"))
        ]

    def committed_loads(self) -> set[str]:
        """Load ids that dlt recorded as complete (``_dlt_loads/<schema>__<load_id>.jsonl``)."""
        return {
            name[: -len(".jsonl")].rsplit("__", 1)[-1]
            for name in self._names(self.path(LOADS_DIR))
            if name.endswith(".jsonl")
        }

    def read(self, paths: Iterable[str]) -> list[pa.Table]:
        tables = []
        for path in paths:
            with self.fs.open(path, "rb") as handle:
                tables.append(pq.read_table(handle))
        return tables

    def write(self, path: str, table: pa.Table) -> None:
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        with self.fs.open(path, "wb") as handle:
            pq.write_table(table, handle)

    def write_text(self, path: str, text: str) -> None:
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        with self.fs.open(path, "w", encoding="utf-8") as handle:
            handle.write(text)

    def remove(self, path: str) -> None:
        if self.fs.exists(path):
            self.fs.rm(path)


def load_id_of(path: str) -> str | None:
    """``1796628303.3518057`` of ``.../1796628303.3518057.db76852370.parquet``; None for a
    compacted file."""
    name = posixpath.basename(path)[: -len(".parquet")]
    if name.startswith(COMPACTED_PREFIX):
        return None
    return name.rsplit(".", 1)[0]


def recover(store: LakeStore, tables: Iterable[str] | None = None) -> None:
    """Finish the compactions of ``tables`` (default: all) that were committed (journal written)
    and drop the leftovers of those that were not. Work files are named ``<table>.<token>...``."""
    work = store.path(WORK_DIR)
    wanted = None if tables is None else set(tables)

    def ours(name: str) -> bool:
        return wanted is None or name.split(".", 1)[0] in wanted

    for name in store._names(work):
        if name.endswith(".json") and ours(name):
            _roll_forward(store, posixpath.join(work, name))
    for name in store._names(work):
        if ours(name):
            log.warning("lake compaction: removing %s left by an interrupted compaction", name)
            store.remove(posixpath.join(work, name))


def _roll_forward(store: LakeStore, journal_path: str) -> None:
    with store.fs.open(journal_path, "r", encoding="utf-8") as handle:
        journal = json.load(handle)
    for temp, final in journal["moves"]:
        if store.fs.exists(temp):
            store.fs.makedirs(posixpath.dirname(final), exist_ok=True)
            store.fs.mv(temp, final)
    for path in journal["deletes"]:
        store.remove(path)
    store.remove(journal_path)


def _publish(store: LakeStore, root: str, outputs: dict[str, pa.Table], last_load: str, replaced: list[str]) -> None:
    token = uuid.uuid4().hex[:10]
    moves = []
    for table, data in outputs.items():
        temp = store.path(WORK_DIR, f"{table}.{token}.parquet")
        store.write(temp, data)
        moves.append([temp, store.path(table, f"{COMPACTED_PREFIX}{last_load}-{token}.parquet")])
    journal = store.path(WORK_DIR, f"{root}.{token}.json")
    store.write_text(journal + ".tmp", json.dumps({"moves": moves, "deletes": replaced}))
    store.fs.mv(journal + ".tmp", journal)  # the commit point
    _roll_forward(store, journal)


def _merge_sql(chain: list[TableRule], dataset: str) -> list[str]:
    """The statements that merge ``_voc_staging.<table>`` into ``<dataset>.<table>`` for a chain,
    as dlt's delete-insert merge job does (see the module docstring)."""
    root = chain[0]
    stored, staged = f"{_quote(dataset)}.{_quote(root.name)}", f"{_STAGING_SCHEMA}.{_quote(root.name)}"
    if root.disposition == "append":
        return [f"INSERT INTO {_quote(dataset)}.{_quote(t.name)} SELECT * EXCLUDE ({_SEQ}) FROM "
                f"{_STAGING_SCHEMA}.{_quote(t.name)} ORDER BY {_SEQ}" for t in chain]
    if root.disposition != "merge" or not (root.primary_key or root.merge_key):
        raise ValueError(f"lake compaction: table {root.name!r} has no merge keys ({root.disposition})")
    if len(chain) > 1 and not root.primary_key:
        raise ValueError(f"lake compaction: nested tables of {root.name!r} need a primary key on it")
    key_conds = [" AND ".join(f"d.{_quote(c)} = s.{_quote(c)}" for c in keys) for keys in (root.primary_key, root.merge_key) if keys]
    source_filter = root.source_filter or "1 = 1"
    not_deleted = "1 = 1"
    if root.hard_delete:
        column = _quote(root.hard_delete)
        not_deleted = f"({column} IS NULL OR {column} = FALSE)"
    order = f"{_quote(root.dedup_sort[0])} {root.dedup_sort[1].upper()}, {_SEQ}" if root.dedup_sort else _SEQ
    sql = [
        f"CREATE OR REPLACE TEMP TABLE _voc_delete AS SELECT d._dlt_id FROM {stored} AS d WHERE EXISTS"
        f" (SELECT 1 FROM {staged} AS s WHERE ({' OR '.join(key_conds)}) AND ({source_filter}))",
    ]
    for nested in chain[1:]:
        sql.append(
            f"DELETE FROM {_quote(dataset)}.{_quote(nested.name)} WHERE _dlt_root_id IN (SELECT _dlt_id FROM _voc_delete)"
        )
    sql.append(f"DELETE FROM {stored} WHERE _dlt_id IN (SELECT _dlt_id FROM _voc_delete)")
    if root.primary_key:
        sql.append(
            "CREATE OR REPLACE TEMP TABLE _voc_insert AS SELECT _dlt_id FROM (SELECT ROW_NUMBER() OVER"
            f" (PARTITION BY {', '.join(map(_quote, root.primary_key))} ORDER BY {order}) AS _voc_rn, *"
            f" FROM {staged}) WHERE _voc_rn = 1 AND {not_deleted}"
        )
    else:
        sql.append(f"CREATE OR REPLACE TEMP TABLE _voc_insert AS SELECT _dlt_id FROM {staged} WHERE {not_deleted}")
    sql.append(
        f"INSERT INTO {stored} SELECT * EXCLUDE ({_SEQ}) FROM {staged}"
        f" WHERE _dlt_id IN (SELECT _dlt_id FROM _voc_insert) AND ({source_filter}) ORDER BY {_SEQ}"
    )
    for nested in chain[1:]:
        sql.append(
            f"INSERT INTO {_quote(dataset)}.{_quote(nested.name)} SELECT * EXCLUDE ({_SEQ}, _voc_rn) FROM"
            f" (SELECT ROW_NUMBER() OVER (PARTITION BY _dlt_id ORDER BY {_SEQ}) AS _voc_rn, *"
            f" FROM {_STAGING_SCHEMA}.{_quote(nested.name)})"
            " WHERE _voc_rn = 1 AND _dlt_root_id IN (SELECT _dlt_id FROM _voc_insert)"
            f" AND _dlt_root_id IN (SELECT _dlt_id FROM {staged} WHERE {source_filter}) ORDER BY {_SEQ}"
        )
    return sql


def _with_seq(table: pa.Table) -> pa.Table:
    return table.append_column(_SEQ, pa.array(range(table.num_rows), type=pa.int64()))


def compact_chain(
    store: LakeStore,
    chain: list[TableRule],
    schemas: dict[str, pa.Schema],
    dataset: str,
    pending_elsewhere: frozenset[str] = frozenset(),
) -> dict[str, int] | None:
    """Merge the committed loads of a table chain into one compacted file per table.

    ``schemas`` are the tables' Arrow schemas (from the dlt schema); ``pending_elsewhere`` the
    load ids dlt still has to finish from its working directory (their files are left alone).
    Files of loads neither committed nor pending were left by a load that can never complete:
    they are removed. Returns the row count per table, or None when nothing was to be done.
    """
    committed = store.committed_loads()
    files = {rule.name: store.parquet_files(rule.name) for rule in chain}
    base: dict[str, list[str]] = {}
    loads: dict[str, dict[str, list[str]]] = {}
    orphans: list[str] = []
    for table, paths in files.items():
        for path in paths:
            load_id = load_id_of(path)
            if load_id is None:
                base.setdefault(table, []).append(path)
            elif load_id in committed:
                loads.setdefault(load_id, {}).setdefault(table, []).append(path)
            elif load_id not in pending_elsewhere:
                orphans.append(path)
    if not loads and not orphans and all(len(base.get(rule.name, [])) == 1 for rule in chain):
        return None
    for path in orphans:
        log.warning("lake compaction: %s belongs to no committed or pending load: removed", path)

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"CREATE SCHEMA {_quote(dataset)}")
        con.execute(f"CREATE SCHEMA {_STAGING_SCHEMA}")
        for rule in chain:
            stored = pa.concat_tables([conform(t, _nullable(schemas[rule.name])) for t in store.read(base.get(rule.name, []))]
                                      or [_nullable(schemas[rule.name]).empty_table()])
            con.register("_voc_arrow", stored)
            con.execute(f"CREATE TABLE {_quote(dataset)}.{_quote(rule.name)} AS SELECT * FROM _voc_arrow")
            con.unregister("_voc_arrow")
        statements = _merge_sql(chain, dataset)
        for load_id in sorted(loads, key=float):
            for rule in chain:
                staged_tables = [conform(t, _nullable(schemas[rule.name])) for t in store.read(loads[load_id].get(rule.name, []))]
                staged = pa.concat_tables(staged_tables or [_nullable(schemas[rule.name]).empty_table()])
                con.register("_voc_arrow", _with_seq(staged))
                con.execute(
                    f"CREATE OR REPLACE TABLE {_STAGING_SCHEMA}.{_quote(rule.name)} AS SELECT * FROM _voc_arrow"
                )
                con.unregister("_voc_arrow")
            for statement in statements:
                con.execute(statement)
        outputs = {
            rule.name: conform(con.sql(f"SELECT * FROM {_quote(dataset)}.{_quote(rule.name)}").to_arrow_table(), schemas[rule.name])
            for rule in chain
        }
    finally:
        con.close()
    last_load = max([*loads, *(load_id_of_compacted(p) for paths in base.values() for p in paths)], key=float, default="0")
    # the files merged here, and the dead ones; a pending load's files stay for its own turn
    replaced = [
        *(path for paths in base.values() for path in paths),
        *(path for tables in loads.values() for paths in tables.values() for path in paths),
        *orphans,
    ]
    _publish(store, chain[0].name, outputs, last_load, replaced)
    return {table: data.num_rows for table, data in outputs.items()}


def load_id_of_compacted(path: str) -> str:
    """The last load id merged into a compacted file (``compacted-<load id>-<token>.parquet``)."""
    name = posixpath.basename(path)[len(COMPACTED_PREFIX) : -len(".parquet")]
    return name.rsplit("-", 1)[0]


def write_empty_table(store: LakeStore, table: str, schema: pa.Schema) -> bool:
    """Give a table that has no file yet an empty compacted file, so readers find it."""
    if store.parquet_files(table):
        return False
    _publish(store, table, {table: schema.empty_table()}, "0", [])
    return True
