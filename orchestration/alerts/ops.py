"""Where ``ops.alert_deliveries`` lives, per engine.

DuckDB: in the warehouse file, beside the marts it delivers (one writer at a time, the pool).
Spark: dbt's tables are Parquet without transactions or updates, so the delivery log, which is
updated row by row (``sending`` -> ``delivered``) and must survive a crash between the two,
lives in a small DuckDB **ops file**, ``voc_ops.duckdb`` in the warehouse folder (always local,
even when the lake and the Spark warehouse are on an object store). It is not a warehouse: it
holds the delivery log and, refreshed before each delivery pass, a copy of ``marts.alerts`` and
``seeds.alert_webhooks`` read through the Spark marts reader, so the delivery code and
``voc alerts`` run the same SQL on both engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestration.alerts.delivery import ALERTS_TABLE
from orchestration.alerts.routes import ROUTES_TABLE

OPS_DATABASE = "voc_ops.duckdb"
MIRRORED_TABLES = (ALERTS_TABLE, ROUTES_TABLE)


def ops_database_path(settings: Any, warehouse_path: Path | None = None) -> Path:
    """The delivery log's DuckDB file: the warehouse file on DuckDB, the ops file on Spark."""
    if settings.uses_spark:
        return settings.warehouse_dir / OPS_DATABASE
    return Path(warehouse_path or settings.warehouse_path)


def mirror_tables(con: Any, reader: Any, tables=MIRRORED_TABLES) -> list[str]:
    """Replace the ops file's copies of ``tables`` (``(schema, table)``) with the reader's; a
    table the warehouse does not have yet is dropped, so the delivery skips as on DuckDB."""
    copied = []
    for schema, table in tables:
        con.execute(f'create schema if not exists "{schema}"')
        if not reader.exists(f"{schema}.{table}"):
            con.execute(f'drop table if exists "{schema}"."{table}"')
            continue
        con.register("voc_mirrored", reader.table(f"{schema}.{table}"))
        try:
            con.execute(f'create or replace table "{schema}"."{table}" as select * from voc_mirrored')
        finally:
            con.unregister("voc_mirrored")
        copied.append(f"{schema}.{table}")
    return copied


@contextmanager
def delivery_connection(settings: Any, reader: Any = None, warehouse_path: Path | None = None) -> Iterator[Any]:
    """A read-write DuckDB connection holding ``ops.alert_deliveries``, ``marts.alerts`` and the
    routes seed. On Spark, ``reader`` (a Spark marts reader) refreshes the copies first."""
    import duckdb

    from loaders.writer_lock import explain_lock_conflicts

    path = ops_database_path(settings, warehouse_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with explain_lock_conflicts(path), duckdb.connect(str(path)) as con:
        if settings.uses_spark and reader is not None:
            mirror_tables(con, reader)
        yield con
