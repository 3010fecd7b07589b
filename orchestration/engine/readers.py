"""The marts reader of the deployment's engine, for the Dagster assets and checks and the CLI.

With ``VOC_ENGINE=duckdb`` it is a read-only connection to the warehouse file. With ``spark`` it
is a :class:`~orchestration.marts_reader.SparkMartsReader` over a **reader session** of the
session factory (``catalog="in-memory"``): it reads dbt's tables by path and the lake's raw
tables by folder, never opens the Derby metastore that the dbt wrapper (another process) holds,
and is kept for the rest of the process (a JVM start costs ~10 s; every later step reuses it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestration.marts_reader import DuckDBMartsReader, MartsReader, open_marts_reader

READER_APP_NAME = "voc-reader"


def reader_session(settings: Any) -> Any:
    """The process's Spark reader session (in-memory catalog), started on first use."""
    from orchestration.engine.spark_session import spark_session

    return spark_session(settings.spark, app_name=READER_APP_NAME)


@contextmanager
def engine_reader(settings: Any, warehouse_path: str | Path | None = None) -> Iterator[MartsReader]:
    """A reader of the marts of ``settings``' engine; ``warehouse_path`` overrides the DuckDB file.

    Raises ``WarehouseUnavailable`` when the DuckDB file is missing or held by a writer, and the
    session factory's ``SparkEngineError`` when pyspark or Java is missing."""
    if settings.uses_spark:
        reader = open_marts_reader(settings, spark=reader_session(settings))
    else:
        reader = DuckDBMartsReader(warehouse_path or settings.warehouse_path)
    with reader:
        yield reader


@contextmanager
def warehouse_source(settings: Any, warehouse_path: str | Path) -> Iterator[Path | MartsReader]:
    """What the GX checks validate and the publication copies: the DuckDB file itself (GX's SQL
    data source and the publication's ATTACH open it read-only), or a Spark marts reader."""
    if not settings.uses_spark:
        yield Path(warehouse_path)
        return
    with engine_reader(settings) as reader:
        yield reader
