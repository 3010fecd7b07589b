"""``python -m devtools.bench.serving_copy --rows 1000000``: which copy into PostgreSQL is faster.

Writes a Parquet file shaped like ``fct_feedback`` (21 columns: ids, source and channel, a
timestamptz, a date, store and region, ~60 characters of Chinese text, doubles, integers,
booleans, two VARCHAR[] and a JSON text), starts a throwaway PostgreSQL server
(``devtools.postgres_server``, or ``--url`` for one of yours) and loads the file into an empty
table with each mechanism, ``--repeat`` times, printing seconds and rows/s:

- ``adbc``: DuckDB reads the Parquet as Arrow batches, ``adbc-driver-postgresql`` writes them
  with binary ``COPY`` (what ``orchestration.serving.postgres`` uses);
- ``psycopg-csv``: DuckDB reads the same batches (lists turned into PostgreSQL array literals
  in SQL), ``pyarrow.csv`` writes each batch as CSV and psycopg 3 streams it into
  ``COPY ... FROM STDIN (FORMAT csv)``;
- ``serve``: the whole ``serve_publication`` of a one-mart publication (copy, primary key, four
  indexes, comments, ANALYZE and the swap), for the end-to-end figure.

DuckDB's postgres extension is not measured: it downloads from extensions.duckdb.org, which is
not reachable here, and the PyPI-shipped ``duckdb-extension-postgres`` is built for DuckDB 1.5,
not the 2.0 this project runs. dlt's postgres destination goes through psycopg2 and writes
files it then COPYs, the same text COPY as ``psycopg-csv`` plus dlt's normalisation.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import duckdb

COLUMNS = [
    ("feedback_id", "VARCHAR", "'review:JD-' || lpad(CAST(i AS VARCHAR), 9, '0')"),
    ("source", "VARCHAR", "['survey', 'ticket', 'review', 'social'][i % 4 + 1]"),
    ("channel", "VARCHAR", "['wechat_miniprogram', 'phone', 'tmall', 'weibo', 'jd', 'email'][i % 6 + 1]"),
    ("created_at", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(i * 29)"),
    ("feedback_date", "DATE", "CAST(DATE '2026-01-01' + CAST(i * 29 // 86400 AS INTEGER) AS DATE)"),
    ("one_id", "VARCHAR", "CASE WHEN i % 4 <> 0 THEN md5(CAST(i % 300000 AS VARCHAR)) END"),
    ("customer_tier", "VARCHAR", "['normal', 'silver', 'gold', 'platinum'][i % 4 + 1]"),
    ("is_vip", "BOOLEAN", "i % 13 = 0"),
    ("store_id", "VARCHAR", "'SZ' || lpad(CAST(i % 400 AS VARCHAR), 3, '0')"),
    ("region", "VARCHAR", "['华南', '华东', '华北', '西南', '华中'][i % 5 + 1]"),
    ("product_sku", "VARCHAR", "'SKU-' || (i % 5000)"),
    ("text_masked", "VARCHAR", "'快递太慢了，等了' || (i % 9) || '天才到，客服电话138****8000也打不通，包装还破了，希望改进一下物流和售后服务。'"),
    ("sentiment_score", "DOUBLE", "(i % 200) / 100.0 - 1"),
    ("sentiment_label", "VARCHAR", "['negative', 'neutral', 'positive'][i % 3 + 1]"),
    ("tags", "VARCHAR[]", "CASE WHEN i % 5 = 0 THEN [] ELSE ['物流体验-时效性', '服务体验-响应速度'][1:(i % 2) + 1] END"),
    ("risk_categories", "VARCHAR[]", "CASE WHEN i % 50 = 0 THEN ['safety'] ELSE [] END"),
    ("primary_tag", "VARCHAR", "CASE WHEN i % 5 <> 0 THEN '物流体验-时效性' END"),
    ("priority", "VARCHAR", "['P1', 'P2', 'P3'][i % 3 + 1]"),
    ("tag_evidence", "VARCHAR", "'[{\"tag\": \"物流体验-时效性\", \"keyword\": \"太慢\", \"sentiment\": -0.8}]'"),
    ("rating_nps", "INTEGER", "CAST(CASE WHEN i % 4 = 0 THEN i % 11 END AS INTEGER)"),
    ("rating_stars", "INTEGER", "CAST(CASE WHEN i % 4 = 2 THEN i % 5 + 1 END AS INTEGER)"),
]
FILTERS = ["feedback_date", "source", "store_id", "tags"]


def write_parquet(path: Path, rows: int) -> None:
    with duckdb.connect() as con:
        select = ", ".join(f"CAST({expression} AS {kind}) AS {name}" for name, kind, expression in COLUMNS)
        con.execute(f"COPY (SELECT {select} FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)")


def write_publication(folder: Path, rows: int) -> None:
    """A one-mart publication (manifest + Parquet) of the same data, for ``serve``."""
    (folder / "parquet").mkdir(parents=True, exist_ok=True)
    write_parquet(folder / "parquet" / "fct_feedback.parquet", rows)
    manifest = {"format": 1, "run_id": "bench", "git_revision": "", "published_at": "2026-12-07T05:00:00+00:00",
                "checks_passed": [], "marts": {"fct_feedback": {
                    "rows": rows, "parquet": "parquet/fct_feedback.parquet", "description": "bench",
                    "primary_key": ["feedback_id"], "filter_columns": FILTERS,
                    "columns": [{"name": n, "type": t, "description": n} for n, t, _ in COLUMNS]}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _create_table(url: str, table: str) -> None:
    import psycopg

    from orchestration.serving.postgres import pg_type

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(f"CREATE TABLE {table} (" + ", ".join(f"{n} {pg_type(t)}" for n, t, _ in COLUMNS) + ")")


def _count(url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _check_same(url: str, left: str, right: str) -> None:
    """Both mechanisms must have copied the same values (arrays, time zones and NULLs included)."""
    import psycopg

    with psycopg.connect(url) as con:
        differ = con.execute(f"SELECT count(*) FROM ((TABLE {left} EXCEPT ALL TABLE {right}) UNION ALL "
                             f"(TABLE {right} EXCEPT ALL TABLE {left})) d").fetchone()[0]
    if differ:
        raise SystemExit(f"{left} and {right} differ in {differ} rows")


def copy_adbc(url: str, parquet: Path, table: str) -> None:
    import adbc_driver_postgresql.dbapi as adbc

    with duckdb.connect() as reader, adbc.connect(url) as con:
        batches = reader.sql(f"SELECT * FROM read_parquet('{parquet}')").to_arrow_reader(100_000)
        with con.cursor() as cursor:
            cursor.adbc_ingest(table, batches, mode="append")
        con.commit()


def copy_psycopg_csv(url: str, parquet: Path, table: str) -> None:
    import psycopg
    import pyarrow.csv as pacsv

    def column(name: str, kind: str) -> str:
        if kind.endswith("[]"):  # a PostgreSQL array literal: {"a","b"}
            element = "'\"' || replace(replace(x, '\\', '\\\\'), '\"', '\\\"') || '\"'"
            return f"'{{' || array_to_string(list_transform({name}, lambda x: {element}), ',') || '}}' AS {name}"
        return name

    select = ", ".join(column(n, t) for n, t, _ in COLUMNS)
    options = pacsv.WriteOptions(include_header=False)
    with duckdb.connect() as reader, psycopg.connect(url) as con:
        batches = reader.sql(f"SELECT {select} FROM read_parquet('{parquet}')").to_arrow_reader(100_000)
        with con.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
            for batch in batches:
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, write_options=options)
                copy.write(buffer.getvalue())
        con.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--url", default=None, help="an existing server (default: start a throwaway one)")
    args = parser.parse_args(argv)

    from devtools.postgres_server import temporary_postgres
    from orchestration.serving.postgres import serve_publication

    with tempfile.TemporaryDirectory(prefix="voc-serving-bench-") as work:
        folder = Path(work) / "publication"
        started = time.perf_counter()
        write_publication(folder, args.rows)
        parquet = folder / "parquet" / "fct_feedback.parquet"
        print(f"{args.rows:,} fct_feedback-shaped rows, {len(COLUMNS)} columns, Parquet "
              f"{parquet.stat().st_size / 2**20:.0f} MiB written in {time.perf_counter() - started:.1f} s")
        with (nullcontext(args.url) if args.url else temporary_postgres()) as server:
            url = server if isinstance(server, str) else server.url()
            results: dict[str, list[float]] = {}
            for _attempt in range(args.repeat):
                for name, copy in (("adbc", copy_adbc), ("psycopg-csv", copy_psycopg_csv)):
                    table = f"bench_{name.replace('-', '_')}"
                    _create_table(url, table)
                    started = time.perf_counter()
                    copy(url, parquet, table)
                    seconds = time.perf_counter() - started
                    rows = _count(url, table)
                    if rows != args.rows:
                        raise SystemExit(f"{name}: {rows} rows copied, expected {args.rows}")
                    results.setdefault(name, []).append(seconds)
                _check_same(url, "bench_adbc", "bench_psycopg_csv")
                started = time.perf_counter()
                served = serve_publication(folder, url)
                results.setdefault("serve", []).append(time.perf_counter() - started)
                if served.rows["fct_feedback"] != args.rows:
                    raise SystemExit("serve: wrong row count")
            print(f"{'mechanism':<14}{'best s':>9}{'rows/s':>12}   all runs (s)")
            for name, runs in results.items():
                best = min(runs)
                print(f"{name:<14}{best:>9.2f}{args.rows / best:>12,.0f}   {', '.join(f'{s:.2f}' for s in runs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
