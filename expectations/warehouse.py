"""Run great-expectations suites inside the DuckDB warehouse, read only.

GX 1.x validates a SQL data source by sending aggregate queries to the database, so a check on
a million rows moves a handful of numbers (and a few sample rows) into Python, never the table.
DuckDB is reached through SQLAlchemy with the ``duckdb-engine`` driver, with two adjustments:

* GX treats DuckDB as a generic SQL dialect and drops the schema of a *table* asset, so every
  guarded relation is a *query* asset (``select * from raw.surveys``), which GX wraps as a
  sub-query.
* GX fetches a result after it has closed the SQLAlchemy connection. duckdb-engine's cursors
  share the DuckDB connection, and the rollback that closing issues clears the pending result,
  so GX would see no rows at all. :class:`ReadOnlyDuckDBDialect` therefore never begins, commits
  or rolls back: every statement runs in DuckDB's own auto-commit mode, which is exactly right
  for a connection opened ``read_only`` that cannot change anything.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from duckdb_engine import Dialect as DuckDBDialect
from sqlalchemy.dialects import registry

READ_ONLY_DRIVER = "voc_readonly"
SAMPLE_ROWS = 5
"""Failing rows shown per expectation (masked) in check metadata and the HTML report."""


_open_connections: "weakref.WeakSet[Any]" = weakref.WeakSet()


class ReadOnlyDuckDBDialect(DuckDBDialect):
    """duckdb-engine without transactions, for read-only validation connections (see module doc).

    It also remembers every connection it opens: GX builds more than one SQLAlchemy engine per
    data source, and a single forgotten pooled connection keeps DuckDB's file lock, which would
    stop the next writer (dbt) from opening the warehouse. See :func:`close_read_only_connections`.
    """

    # duckdb-engine has not declared SQLAlchemy's statement cache safe; say so instead of warning per query
    supports_statement_cache = False

    def connect(self, *cargs: Any, **cparams: Any) -> Any:
        connection = super().connect(*cargs, **cparams)
        _open_connections.add(connection)
        return connection

    def do_begin(self, dbapi_connection: Any) -> None:
        """No explicit transaction: DuckDB auto-commits each read."""

    def do_commit(self, dbapi_connection: Any) -> None:
        """Nothing to commit on a read-only connection."""

    def do_rollback(self, dbapi_connection: Any) -> None:
        """A rollback would discard the result GX has not fetched yet."""


registry.register(f"duckdb.{READ_ONLY_DRIVER}", __name__, "ReadOnlyDuckDBDialect")


def close_read_only_connections() -> int:
    """Close every connection the read-only dialect opened; returns how many were still open.

    Call it when a validation is done, so the warehouse file is unlocked for the next writer.
    """
    still_open = [connection for connection in list(_open_connections) if not connection.closed]
    for connection in still_open:
        connection.close()
    return len(still_open)


def read_only_url(warehouse_path: Path) -> str:
    """SQLAlchemy URL of the warehouse through the read-only dialect."""
    return f"duckdb+{READ_ONLY_DRIVER}:///{Path(warehouse_path).resolve()}"


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict, flattened for Dagster metadata and the HTML report."""

    expectation: str
    severity: str
    success: bool
    observed: Any
    unexpected_count: int | None
    samples: list[dict[str, Any]]
    error: str | None = None


def open_gx_context():
    """An ephemeral GX context (nothing written to disk) with progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def add_warehouse_source(context, warehouse_path: Path, name: str = "warehouse"):
    """Register the warehouse as a read-only GX SQL data source."""
    return context.data_sources.add_sql(
        name=name,
        connection_string=read_only_url(warehouse_path),
        kwargs={"connect_args": {"read_only": True}},
    )


class WarehouseReader:
    """Small read-only queries over the GX data source's own SQLAlchemy engine.

    DuckDB refuses a second connection to the same file with other settings in one process, so
    the helper queries (does the relation exist, sample failing rows) reuse GX's engine.
    """

    def __init__(self, engine) -> None:
        self._engine = engine

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one query and return its rows as dicts."""
        from sqlalchemy import text

        with self._engine.connect() as connection:
            result = connection.execute(text(sql), params or {})
            names = list(result.keys())
            return [dict(zip(names, row)) for row in result.fetchall()]

    def relation_exists(self, relation: str) -> bool:
        """True when ``schema.name`` is a table or view of the warehouse."""
        schema, name = relation.split(".", 1)
        found = self.rows(
            "select count(*) as n from information_schema.tables "
            "where table_schema = :schema and table_name = :name",
            {"schema": schema, "name": name},
        )
        return found[0]["n"] > 0

    def sample_rows(self, query: str, limit: int = SAMPLE_ROWS) -> list[dict[str, Any]]:
        """The first ``limit`` rows of a query (DuckDB stops scanning once it has them)."""
        return self.rows(f"select * from ({query}) as failing_rows limit {int(limit)}")


def varchar_columns(connection: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """Text columns of a relation, in table order (where personal data could hide)."""
    schema, name = relation.split(".", 1)
    rows = connection.execute(
        "select column_name from information_schema.columns where table_schema = ? and "
        "table_name = ? and data_type like 'VARCHAR%' order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [row[0] for row in rows]


def timed(function, *args, **kwargs) -> tuple[Any, float]:
    """Call ``function`` and return its result with the wall time it took, in seconds."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started
