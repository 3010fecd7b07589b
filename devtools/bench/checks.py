"""How long the quality checks take on a big warehouse, without running the whole pipeline at that size.

``python -m devtools.bench.checks <warehouse.duckdb> --scale 50`` copies a warehouse that a
pipeline run built, multiplies the rows of every raw feedback table and of the biggest marts by
``scale`` (each copy gets new ids, so keys stay unique), and times the same suites the Dagster
checks run. A 20,000-row demo run scaled 50x stands in for a 1M-row run; the staging views are
computed over the scaled raw tables, so their cost scales too. The warehouse given is not changed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from expectations.runner import validate_suites
from expectations.suites import mart_suite, raw_suites, staging_suites
from expectations.warehouse import varchar_columns
from loaders.contracts import FAMILY_SPECS, RECORD_SPECS

# marts whose size follows the number of feedback items, with their key column
SCALED_MARTS = {"fct_feedback": "feedback_id", "dim_customer": "one_id", "kpi_daily": "kpi_key"}
SCALED_FAMILIES = ("surveys", "tickets", "reviews", "social", "members")


def _multiply(con: duckdb.DuckDBPyConnection, relation: str, key: str, scale: int) -> int:
    """Append ``scale - 1`` copies of every row with ``key`` suffixed by the copy number."""
    con.execute(
        f"insert into {relation} select original.* replace (\"{key}\" || '~' || copy as \"{key}\") "
        f"from {relation} as original, range(1, {int(scale)}) as copies(copy)"
    )
    (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
    return rows


def scale_warehouse(source: Path, target: Path, scale: int) -> dict[str, int]:
    """Copy ``source`` to ``target`` and multiply its big tables; returns rows per scaled table."""
    shutil.copyfile(source, target)
    rows: dict[str, int] = {}
    with duckdb.connect(str(target)) as con:
        for family in SCALED_FAMILIES:
            for spec in FAMILY_SPECS[family]:
                rows[f"raw.{spec.table}"] = _multiply(con, f"raw.{spec.table}", RECORD_SPECS[spec.table].id_field, scale)
            # keep the load log consistent with the bigger tables, so reconciliation does its full work
            con.execute(
                f"update raw.{family}_files set records_read = records_read * {scale}, "
                f"records_loaded = records_loaded * {scale}, records_quarantined = records_quarantined * {scale}"
            )
            con.execute(
                f"insert into raw.{family}_quarantine select original.* replace (line + copy * 1000000000 as line) "
                f"from raw.{family}_quarantine as original, range(1, {int(scale)}) as copies(copy)"
            )
        for mart, key in SCALED_MARTS.items():
            rows[f"marts.{mart}"] = _multiply(con, f"marts.{mart}", key, scale)
    return rows


def time_checks(warehouse: Path) -> dict[str, float]:
    """Seconds per check group (the same grouping as the Dagster checks), validated back to back."""
    timings: dict[str, float] = {}
    for family in FAMILY_SPECS:
        started = time.perf_counter()
        validate_suites(warehouse, raw_suites(family, FAMILY_SPECS[family][0].table))
        timings[f"gx_raw_{family}"] = time.perf_counter() - started
    started = time.perf_counter()
    validate_suites(warehouse, staging_suites())
    timings["gx_staging"] = time.perf_counter() - started
    with duckdb.connect(str(warehouse), read_only=True) as con:
        marts = [row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()]
        suites = [mart_suite(mart, varchar_columns(con, f"marts.{mart}")) for mart in marts]
    started = time.perf_counter()
    validate_suites(warehouse, suites)
    timings["gx_marts"] = time.perf_counter() - started
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path, help="a warehouse built by `voc run`")
    parser.add_argument("--scale", type=int, default=50)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="voc_gx_bench_") as folder:
        target = Path(folder) / "scaled.duckdb"
        started = time.perf_counter()
        rows = scale_warehouse(arguments.warehouse, target, arguments.scale)
        print(f"scaled x{arguments.scale} in {time.perf_counter() - started:.1f}s:")
        for relation, count in rows.items():
            print(f"  {relation:28} {count:>10,} rows")
        timings = time_checks(target)
        for group, seconds in timings.items():
            print(f"  {group:28} {seconds:8.2f}s")
        print(f"  {'all checks':28} {sum(timings.values()):8.2f}s")


if __name__ == "__main__":
    main()


def time_checks_spark(reader) -> dict[str, float]:
    """``time_checks`` on Spark: the same groups through GX's Spark data source, over a Spark marts
    reader (``orchestration.engine.readers``: dbt's tables by path, the lake's raw tables)."""
    from expectations.spark import validate_suites_spark

    reader.register_all()  # relations the SQL rules name resolve by name in the session
    timings: dict[str, float] = {}
    for family in FAMILY_SPECS:
        started = time.perf_counter()
        validate_suites_spark(reader.spark, raw_suites(family, FAMILY_SPECS[family][0].table))
        timings[f"gx_raw_{family}"] = time.perf_counter() - started
    started = time.perf_counter()
    validate_suites_spark(reader.spark, staging_suites())
    timings["gx_staging"] = time.perf_counter() - started
    suites = [mart_suite(mart, reader.text_columns(f"marts.{mart}")) for mart in reader.tables("marts")]
    started = time.perf_counter()
    validate_suites_spark(reader.spark, suites)
    timings["gx_marts"] = time.perf_counter() - started
    return timings
