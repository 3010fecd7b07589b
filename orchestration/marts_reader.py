"""One small interface through which reports, alerts, the summary, metadata, sensors and the CLI
read the warehouse, whichever engine built it (issue 19).

A :class:`MartsReader` answers SQL with Arrow tables (``query``), rows as dicts (``rows``) or one
value (``scalar``), and says which relations exist (``exists``, ``tables``, ``schemas_of``,
``columns``). Two implementations:

* :class:`DuckDBMartsReader`: a **read-only** connection to the DuckDB warehouse file, so a reader
  never takes the single write lock. When a writer has the file open DuckDB refuses the
  connection; that is raised as :class:`WarehouseUnavailable` (the message names the other
  process, never a secret), and callers keep today's rules: the sensor looks again later, the CLI
  says the warehouse is busy.
* :class:`SparkMartsReader`: takes a ``SparkSession`` (it never builds one from the environment).
  A relation ``schema.table`` is read by name when the session's catalog has it (the dbt session
  with its Hive catalog); otherwise it is found by path, ``<spark warehouse dir>/<schema>.db/<table>``
  (dbt-spark's Parquet tables) or ``<lake dir>/<schema>/<table>`` (dlt's filesystem destination,
  the raw layer), and registered in the session's own catalog as an external Parquet table, so the
  same ``marts.kpi_daily`` in the SQL resolves on both engines. Views exist only in the catalog
  that dbt wrote them to; a reader without that catalog sees only tables.

The SQL the readers run is written once, with ``?`` parameters (DuckDB and Spark 3.5+ both bind
them) and portable functions. What differs between the engines (identifier quoting, list
functions, reading a Parquet file) is chosen in one place, the reader's :class:`SqlDialect`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

DUCKDB_ENGINE = "duckdb"
SPARK_ENGINE = "spark"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class WarehouseUnavailable(RuntimeError):
    """The warehouse cannot be read now (a writer holds the DuckDB file, or it does not exist)."""


@dataclass(frozen=True)
class SqlDialect:
    """What a reader's SQL needs that DuckDB and Spark SQL spell differently."""

    engine: str

    def quote(self, name: str) -> str:
        """An identifier, quoted (names come from the manifest, dlt or code, not from users)."""
        if self.engine == SPARK_ENGINE:
            return "`" + name.replace("`", "``") + "`"
        return '"' + name.replace('"', '""') + '"'

    def relation(self, schema: str, table: str) -> str:
        return f"{self.quote(schema)}.{self.quote(table)}"

    def list_contains(self, list_sql: str, value_sql: str) -> str:
        """True when the list holds the value (``list_contains`` / ``array_contains``)."""
        function = "array_contains" if self.engine == SPARK_ENGINE else "list_contains"
        return f"{function}({list_sql}, {value_sql})"

    def list_length(self, list_sql: str) -> str:
        """Elements of a list; NULL for a NULL list (``len`` / ``size``, which gives -1 on Spark)."""
        if self.engine == SPARK_ENGINE:
            return f"case when {list_sql} is null then null else size({list_sql}) end"
        return f"len({list_sql})"

    def unnest(self, list_sql: str) -> str:
        """One row per element of a list, as a select expression."""
        function = "explode" if self.engine == SPARK_ENGINE else "unnest"
        return f"{function}({list_sql})"

    def parquet(self, path: str | Path) -> str:
        """A Parquet file (or folder of them) as a relation."""
        text = str(path)
        if self.engine == SPARK_ENGINE:
            return "parquet.`" + text.replace("`", "``") + "`"
        return "read_parquet('" + text.replace("'", "''") + "')"


DUCKDB_SQL = SqlDialect(DUCKDB_ENGINE)
SPARK_SQL = SqlDialect(SPARK_ENGINE)


def split_relation(name: str) -> tuple[str, str]:
    """``schema.table`` -> (schema, table); both must be plain names."""
    schema, _, table = name.partition(".")
    if not (_NAME.fullmatch(schema) and _NAME.fullmatch(table)):
        raise ValueError(f"not a schema.table name: {name!r}")
    return schema, table


class MartsReader(Protocol):
    """Read-only access to the warehouse's relations (see the module doc)."""

    dialect: SqlDialect

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table: ...

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]: ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...

    def table(self, name: str, columns: Sequence[str] | None = None) -> pa.Table: ...

    def exists(self, name: str) -> bool: ...

    def tables(self, schema: str) -> list[str]: ...

    def schemas_of(self, table: str) -> list[str]: ...

    def columns(self, name: str) -> list[tuple[str, str]]: ...

    def text_columns(self, name: str) -> list[str]: ...

    def close(self) -> None: ...

    def __enter__(self) -> "MartsReader": ...

    def __exit__(self, *exc: object) -> None: ...


class _ReaderBase:
    dialect: SqlDialect

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return self.query(sql, params).to_pylist()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.query(sql, params)
        return rows.column(0)[0].as_py() if rows.num_rows else None

    def table(self, name: str, columns: Sequence[str] | None = None) -> pa.Table:
        """A whole relation (or some of its columns) as an Arrow table."""
        schema, table = split_relation(name)
        select = ", ".join(self.dialect.quote(column) for column in columns) if columns else "*"
        return self.query(f"select {select} from {self.dialect.relation(schema, table)}")

    def text_columns(self, name: str) -> list[str]:
        """Text columns of a relation, in table order (where personal data could hide)."""
        return [column for column, data_type in self.columns(name) if _is_text_type(data_type)]

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_text_type(data_type: str) -> bool:
    """Text and lists of text (DuckDB ``VARCHAR``, ``VARCHAR[]``; Spark ``STRING``, ``ARRAY<STRING>``)."""
    return data_type.upper().startswith(("VARCHAR", "STRING", "ARRAY<STRING>"))


# --- DuckDB ----------------------------------------------------------------------------------


class DuckDBMartsReader(_ReaderBase):
    """The DuckDB warehouse file, read-only; or an open connection that the caller owns."""

    dialect = DUCKDB_SQL

    def __init__(self, warehouse_path: str | Path | None = None, *, connection: Any = None) -> None:
        if (warehouse_path is None) == (connection is None):
            raise ValueError("give the warehouse path or an open connection")
        self._owned = connection is None
        if connection is None:
            import duckdb

            path = Path(warehouse_path)
            if not path.exists():
                raise WarehouseUnavailable(f"No warehouse at {path}: run `voc run` first")
            try:
                connection = duckdb.connect(str(path), read_only=True)
            except duckdb.Error as exc:
                # DuckDB's lock error names the file and the other process, never a secret
                raise WarehouseUnavailable(f"The warehouse is in use by another process: {exc}") from exc
        self.connection = connection

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self.connection.execute(sql, list(params or [])).to_arrow_table()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        # DuckDB's own Python values (as the readers had them before this interface)
        cursor = self.connection.execute(sql, list(params or []))
        names = [description[0] for description in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.connection.execute(sql, list(params or [])).fetchone()
        return None if row is None else row[0]

    def exists(self, name: str) -> bool:
        schema, table = split_relation(name)
        return bool(
            self.scalar(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, table],
            )
        )

    def tables(self, schema: str) -> list[str]:
        return [
            row[0]
            for row in self.connection.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
            ).fetchall()
        ]

    def schemas_of(self, table: str) -> list[str]:
        return [
            row[0]
            for row in self.connection.execute(
                "select table_schema from information_schema.tables where table_name = ? order by 1", [table]
            ).fetchall()
        ]

    def columns(self, name: str) -> list[tuple[str, str]]:
        schema, table = split_relation(name)
        return [
            (row[0], row[1])
            for row in self.connection.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? and "
                "table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
        ]

    def close(self) -> None:
        if self._owned:
            self.connection.close()


def as_reader(source: Any) -> MartsReader:
    """A reader as is; an open DuckDB connection wrapped (the caller keeps and closes it)."""
    if isinstance(source, _ReaderBase):
        return source  # type: ignore[return-value]
    return DuckDBMartsReader(connection=source)  # type: ignore[return-value]


# --- Spark -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SparkTableLocations:
    """Where a reader without the dbt catalog finds a relation's Parquet files.

    ``<warehouse_dir>/<schema>.db/<table>`` (Spark's own layout for dbt-spark's tables) first, then
    ``<lake_dir>/<schema>/<table>`` for the schemas the loaders write to the lake (dlt's
    filesystem destination, dataset folder / table folder).
    """

    warehouse_dir: str | None = None
    lake_dir: str | None = None
    lake_schemas: tuple[str, ...] = ("raw",)

    def candidates(self, schema: str, table: str) -> list[str]:
        found = []
        if self.warehouse_dir:
            found.append(_join(self.warehouse_dir, f"{schema}.db", table))
        if self.lake_dir and schema in self.lake_schemas:
            found.append(_join(self.lake_dir, schema, table))
        return found

    def schema_dirs(self) -> list[tuple[str, str]]:
        """``(schema, folder)`` of every local folder that may hold tables."""
        found = []
        if self.warehouse_dir and _is_local(self.warehouse_dir) and os.path.isdir(self.warehouse_dir):
            for entry in sorted(os.listdir(self.warehouse_dir)):
                if entry.endswith(".db") and _NAME.fullmatch(entry[:-3]):
                    found.append((entry[:-3], os.path.join(self.warehouse_dir, entry)))
        if self.lake_dir and _is_local(self.lake_dir):
            for schema in self.lake_schemas:
                folder = os.path.join(self.lake_dir, schema)
                if os.path.isdir(folder):
                    found.append((schema, folder))
        return found


def _is_local(location: str) -> bool:
    return "://" not in location or location.startswith("file://")


def _local_path(location: str) -> str:
    return location[len("file://"):] if location.startswith("file://") else location


def _join(base: str, *parts: str) -> str:
    return base.rstrip("/") + "/" + "/".join(parts)


def _holds_parquet(location: str) -> bool | None:
    """True/False for a local folder; None (unknown: try reading it) for an object-store URL."""
    if not _is_local(location):
        return None
    folder = Path(_local_path(location))
    return folder.is_dir() and any(
        path.suffix == ".parquet" for path in folder.rglob("*.parquet") if not path.name.startswith((".", "_"))
    )


class SparkMartsReader(_ReaderBase):
    """Relations of a Spark warehouse through a given ``SparkSession`` (see the module doc)."""

    dialect = SPARK_SQL

    def __init__(self, spark: Any, locations: SparkTableLocations | None = None) -> None:
        self.spark = spark
        self.locations = locations or SparkTableLocations()
        self._registered: set[tuple[str, str]] = set()
        self._missing: set[tuple[str, str]] = set()

    # the session's catalog, completed from the folders on first use of a name

    def _in_catalog(self, schema: str, table: str) -> bool:
        try:
            return bool(self.spark.catalog.tableExists(f"{schema}.{table}"))
        except Exception:  # no such database in this catalog
            return False

    def _register(self, schema: str, table: str) -> bool:
        """Make ``schema.table`` resolvable by name: from the catalog, else from its Parquet folder."""
        key = (schema, table)
        if key in self._registered or self._in_catalog(schema, table):
            # dbt may have rewritten the table's files since this session listed them
            self.spark.sql(f"refresh table {self.dialect.relation(schema, table)}")
            self._registered.add(key)
            return True
        shared = self._catalog_is_shared()
        if shared and schema not in self.locations.lake_schemas:
            return False  # never add tables to a metastore that dbt and others share
        # a shared metastore (a Spark Connect server's) may still learn the lake's raw tables, as
        # the dbt wrapper registers them: external tables over the lake, whose drop deletes nothing
        options = " options (mergeSchema 'true')" if shared else ""
        for location in self.locations.candidates(schema, table):
            if _holds_parquet(location) is False:
                continue
            quoted = location.replace("\\", "\\\\").replace("'", "\\'")
            try:
                self.spark.sql(f"create database if not exists {self.dialect.quote(schema)}")
                self.spark.sql(
                    f"create table if not exists {self.dialect.relation(schema, table)} using parquet{options} location '{quoted}'"
                )
                # a table dbt rebuilt since this session registered it: read its current files
                self.spark.sql(f"refresh table {self.dialect.relation(schema, table)}")
            except Exception:  # an object-store URL without files
                continue
            self._registered.add(key)
            return True
        return False

    def _catalog_is_shared(self) -> bool:
        """True when the session's catalog is a Hive metastore (dbt's), not this session's own."""
        try:
            return self.spark.conf.get("spark.sql.catalogImplementation", "in-memory") == "hive"
        except Exception:
            return False

    def register_relations(self, names: Iterable[str]) -> None:
        """Resolve these ``schema.table`` names before SQL that uses them runs (missing ones are skipped)."""
        for name in names:
            self._register(*split_relation(name))

    def register_all(self) -> list[str]:
        """Register every table found under the local warehouse and lake folders."""
        found = []
        for schema, folder in self.locations.schema_dirs():
            for entry in sorted(os.listdir(folder)):
                if _NAME.fullmatch(entry) and self._register(schema, entry):
                    found.append(f"{schema}.{entry}")
        return found

    _RELATION_IN_SQL = re.compile(r"(?<![\w.`'\"])([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)(?![\w(])")

    def _register_used(self, sql: str) -> None:
        for schema, table in set(self._RELATION_IN_SQL.findall(_without_literals(sql))):
            if (schema, table) not in self._missing:
                if not self._register(schema, table):
                    self._missing.add((schema, table))  # an alias.column, or a relation not built


    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        self._register_used(sql)
        frame = self.spark.sql(sql, args=list(params)) if params else self.spark.sql(sql)
        return frame.toArrow()

    def table(self, name: str, columns: Sequence[str] | None = None) -> pa.Table:
        # the SELECT names the relation quoted, which the scan of query() does not pick up
        self._register(*split_relation(name))
        return super().table(name, columns)

    def frame(self, name: str):
        """A relation as a Spark DataFrame (for the great-expectations Spark data source)."""
        schema, table = split_relation(name)
        if not self._register(schema, table):
            raise KeyError(f"{name} does not exist in the Spark warehouse")
        return self.spark.table(f"{schema}.{table}")

    def exists(self, name: str) -> bool:
        return self._register(*split_relation(name))

    def tables(self, schema: str) -> list[str]:
        self.register_all()
        try:
            # temporary views (GX's Spark data source leaves some) are listed too: not relations
            return sorted(table.name for table in self.spark.catalog.listTables(schema) if not table.isTemporary)
        except Exception:  # no such database
            return []

    def schemas_of(self, table: str) -> list[str]:
        self.register_all()
        found = []
        for database in self.spark.catalog.listDatabases():
            if self._in_catalog(database.name, table):
                found.append(database.name)
        return sorted(found)

    def columns(self, name: str) -> list[tuple[str, str]]:
        frame = self.frame(name)
        return [(field.name, field.dataType.simpleString().upper()) for field in frame.schema.fields]

    def close(self) -> None:
        """The session belongs to the caller; nothing to close here."""


def _without_literals(sql: str) -> str:
    """The SQL with its quoted literals blanked, so names are found only where they are names."""
    return re.sub(r"'(?:[^'\\]|\\.|'')*'", "''", sql)


def open_marts_reader(settings: Any, spark: Any = None, warehouse_path: str | Path | None = None) -> MartsReader:
    """The reader of a deployment: Spark when the settings choose it (the caller hands the session:
    ``orchestration.engine.spark_session``), else the DuckDB warehouse file (``warehouse_path``,
    by default the settings' one), read-only."""
    if spark is not None or getattr(settings, "uses_spark", False):
        if spark is None:
            raise ValueError("the Spark engine's reader needs a SparkSession")
        return SparkMartsReader(
            spark,
            SparkTableLocations(
                warehouse_dir=getattr(settings, "spark_warehouse_dir", None),
                lake_dir=getattr(settings, "lake_dir", None),
            ),
        )
    return DuckDBMartsReader(warehouse_path or settings.warehouse_path)


def reader_from(source: Any) -> MartsReader:
    """A warehouse file path opened read-only; a reader or DuckDB connection as given."""
    if isinstance(source, (str, Path)):
        return DuckDBMartsReader(source)
    return as_reader(source)
