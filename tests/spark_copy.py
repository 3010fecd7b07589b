"""For the ``spark`` tests: a small local Spark session, and Parquet copies of DuckDB relations in
Spark's table layout (``<dir>/<schema>.db/<table>/``), which a Spark marts reader finds by path."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.marts_reader import split_relation


def local_spark_session(app_name: str):
    """A ``local[1]`` session (a JVM start costs ~10-30 s here: one per test module); skips with
    the reason when pyspark or Java is missing."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (the spark extra)")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime for Spark (apt-get install openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[1]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def export_to_spark_warehouse(warehouse_path: Path, relations, spark_dir: Path) -> None:
    """Copy relations (tables or views) of the DuckDB warehouse to Parquet in Spark's layout."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        for relation in relations:
            schema, table = split_relation(relation)
            folder = spark_dir / f"{schema}.db" / table
            folder.mkdir(parents=True, exist_ok=True)
            target = str(folder / "part-0.parquet").replace("'", "''")
            con.execute(f'copy (select * from "{schema}"."{table}") to \'{target}\' (format parquet)')
