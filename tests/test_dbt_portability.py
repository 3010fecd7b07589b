"""The dbt project is portable between its two engines (issue 19, docs/dbt-engines.md).

- Every macro we dispatch has an implementation for DuckDB and one for Spark, and no
  ``default__`` raises (grep level, unit).
- The whole project compiles for the duckdb target (dbt) and for the spark target on a local
  Spark session (spark), with no DuckDB-only SQL left in what the spark target compiles.
- The seeds and the staging layer build and pass their data tests on Spark over a tiny raw layer
  of Parquet files laid out as the lake is (``<lake>/<dataset>/<table>/*.parquet``).

The Spark tests share one ``local[1]`` session (a JVM start costs ~10 s) with an in-memory
catalog, so no Derby metastore is opened; dbt-spark's session method picks that session up with
``getOrCreate()``. They skip, saying why, when pyspark, dbt-spark or Java is missing.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml

DBT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
MACROS = sorted((DBT_DIR / "macros").rglob("*.sql"))
MACRO_RE = re.compile(r"{%-?\s*macro\s+(\w+)\s*\((.*?)\)\s*-?%}(.*?){%-?\s*endmacro\s*-?%}", re.S)
DISPATCH_RE = re.compile(r"adapter\.dispatch\(\s*'(\w+)'\s*,\s*'voc'\s*\)")
# SQL that only DuckDB reads: list functions, :: casts, DuckDB's types, its time-zone function,
# the "g" flag of regexp_replace, double-quoted identifiers (a string literal on Spark).
DUCKDB_ONLY_RE = re.compile(
    r"\blist_\w+\(|\bstring_split\(|\bunnest\(|::|\bvarchar\b|\btimestamptz\b|with time zone|\btimezone\(|"
    r"\barg_min\(|\barg_max\(|'g'\s*\)|\bstrftime\(|\bepoch\(|\bgenerate_series\(|\"\w+\"",
    re.I,
)


def _macros() -> dict[str, str]:
    found = {}
    for path in MACROS:
        for name, _arguments, body in MACRO_RE.findall(path.read_text(encoding="utf-8")):
            found[name] = body
    return found


def test_no_default_macro_raises_for_an_engine():
    raising = [name for name, body in _macros().items() if name.startswith("default__") and "raise_compiler_error" in body]
    assert not raising, f"a default__ that raises leaves every other engine without SQL: {raising}"


def test_every_dispatched_macro_has_a_duckdb_and_a_spark_implementation():
    macros = _macros()
    dispatched = {name for body in macros.values() for name in DISPATCH_RE.findall(body)}
    assert {"local_date", "hash_identifier", "taxonomy_handle", "voc_median", "voc_type"} <= dispatched
    missing = [
        (name, engine)
        for name in sorted(dispatched)
        for engine in ("duckdb", "spark")
        if f"{engine}__{name}" not in macros and f"default__{name}" not in macros
    ]
    assert not missing, f"dispatched macros without an implementation: {missing}"


def _seed_columns(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[0].split(",")


def test_both_engines_give_the_tagger_every_column_of_the_taxonomy_seed():
    """The taxonomy document is written once per engine: a seed column only one of them passes on
    tags differently on the other (the parity test would find it only on data that uses it)."""
    macros = _macros()
    duckdb_keys = re.findall(r"'(\w+)'\s*:", macros["duckdb__taxonomy_json"])
    spark_keys = re.findall(r"'(\w+)',\s*\w+", macros["spark__taxonomy_json"])
    assert duckdb_keys == spark_keys
    read_by_the_tagger = set(_seed_columns(DBT_DIR / "seeds" / "taxonomy.csv")) - {"description", "risk_category", "owner_team"}
    assert read_by_the_tagger <= set(duckdb_keys), read_by_the_tagger - set(duckdb_keys)


def test_the_duckdb_only_pattern_finds_what_it_is_for():
    """The scan of the Spark SQL below must be able to fail."""
    assert DUCKDB_ONLY_RE.search("select list_contains(tags, 'a'), x::varchar from t")
    assert DUCKDB_ONLY_RE.search('select messages."at" from m')
    assert not DUCKDB_ONLY_RE.search("select array_contains(tags, 'a'), cast(x as string), `at` from t")


def _run_dbt(args: list[str]) -> None:
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(args)
    assert result.exception is None, result.exception
    assert result.success, [
        f"{node.node.unique_id}: {node.status}: {node.message}"
        for node in (result.result or [])
        if getattr(node, "status", None) not in ("success", "pass")
    ] if hasattr(result.result, "__iter__") else result.result


def _dbt_args(command: list[str], target: str, tmp: Path, extra_vars: str | None = None) -> list[str]:
    args = [
        *command,
        "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target", target,
        "--target-path", str(tmp / f"target-{target}"), "--log-path", str(tmp / f"logs-{target}"),
    ]
    if extra_vars:
        args += ["--vars", extra_vars]
    return args


@pytest.mark.dbt
def test_the_project_compiles_for_duckdb(tmp_path):
    _run_dbt(_dbt_args(["compile", "--quiet"], "duckdb", tmp_path, f"{{voc_warehouse_path: '{tmp_path / 'w.duckdb'}'}}"))
    compiled = tmp_path / "target-duckdb" / "compiled" / "voc" / "models"
    assert len(list(compiled.rglob("*.sql"))) + len(list(compiled.rglob("*.py"))) >= 39
    assert set(_nights_materializations(tmp_path / "target-duckdb").values()) == {"incremental"}


def _nights_materializations(target: Path) -> dict[str, str]:
    """The materialization of each model that rebuilds by night (reads int_feedback__changes)."""
    import json

    nodes = json.loads((target / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    changes = "model.voc.int_feedback__changes"
    found = {node["name"]: node["config"]["materialized"] for node in nodes.values()
             if node["resource_type"] == "model" and changes in node["depends_on"]["nodes"]}
    assert {"int_feedback__scored", "fct_feedback", "kpi_daily", "hot_terms"} <= set(found), found
    return found


# --- Spark -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    pytest.importorskip("pyspark", reason="pyspark is not installed (the spark extra)")
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (the spark extra)")
    if shutil.which("java") is None:
        pytest.skip("no Java on PATH: Spark needs Java 17")
    from pyspark.sql import SparkSession

    root = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("voc-dbt-portability")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", str(root / "spark-warehouse"))
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()



@pytest.mark.spark
@pytest.mark.dbt
def test_the_project_compiles_for_spark_with_no_duckdb_sql(spark, tmp_path):
    _run_dbt(_dbt_args(["compile", "--quiet"], "spark", tmp_path))
    compiled = tmp_path / "target-spark" / "compiled" / "voc" / "models"
    files = sorted(compiled.rglob("*.sql"))
    assert len(files) >= 37
    duckdb_only = {
        str(path.relative_to(compiled)): sorted(set(DUCKDB_ONLY_RE.findall(path.read_text(encoding="utf-8"))))
        for path in files
        if DUCKDB_ONLY_RE.search(path.read_text(encoding="utf-8"))
    }
    assert not duckdb_only, duckdb_only
    # Spark builds the models of the incremental nights whole (macros/incremental_nights.sql)
    assert set(_nights_materializations(tmp_path / "target-spark").values()) == {"table"}


def _value(data_type: str, column: str, row: int):
    """A plausible value of a raw column for row 0, 1, 2 of a tiny table."""
    base = dt.datetime(2024, 5, 6, 1, 2, 3, 456789, tzinfo=dt.timezone.utc)
    if data_type in ("timestamptz", "timestamp"):
        return base + dt.timedelta(days=row, hours=row)
    if data_type == "bigint":
        return row + 1
    if data_type == "boolean":
        return row % 2 == 0
    if data_type == "double":
        return 0.5 * row
    if column == "_dlt_id":
        return f"row{row}"
    if column == "_dlt_parent_id":
        return f"row{row % 2}"
    return f"{column}-{row}"


def _write_raw_layer(lake: Path, tables: dict[str, dict[str, list[dict]]]) -> None:
    """Tiny Parquet files for some raw tables, at ``<lake>/raw/<table>/part-0.parquet``; typed
    from the sources' YAML. Tables not written are missing, as for a family without data."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow_types = {"varchar": pa.string(), "bigint": pa.int64(), "boolean": pa.bool_(), "double": pa.float64(),
                   "timestamptz": pa.timestamp("us", tz="UTC")}
    for source in DBT_DIR.joinpath("models", "staging").rglob("_*.yml"):
        for entry in yaml.safe_load(source.read_text(encoding="utf-8")).get("sources", []):
            for table in entry["tables"]:
                if table["name"] not in tables:
                    continue
                columns = {column["name"]: column["data_type"] for column in table["columns"]}
                overrides = tables[table["name"]]
                rows = [
                    {name: override.get(name, _value(data_type, name, index)) for name, data_type in columns.items()}
                    for index, override in enumerate(overrides["rows"])
                ]
                schema = pa.schema([(name, arrow_types[data_type]) for name, data_type in columns.items()])
                folder = lake / "raw" / table["name"]
                folder.mkdir(parents=True)
                pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "part-0.parquet")


def _register_lake(spark, lake: Path) -> list[str]:
    """Each ``<lake>/<dataset>/<table>`` folder as the table ``<dataset>.<table>``."""
    registered = []
    for dataset in sorted(path for path in lake.iterdir() if path.is_dir()):
        spark.sql(f"create database if not exists {dataset.name}")
        for table in sorted(path for path in dataset.iterdir() if path.is_dir()):
            spark.sql(f"create table {dataset.name}.{table.name} using parquet location '{table.as_uri()}'")
            registered.append(f"{dataset.name}.{table.name}")
    return registered


RAW_TABLES = {
    # surveys and tickets have rows (one survey answered twice: the newest version wins);
    # reviews, social and the reference tables are missing and come from optional_source
    "surveys": {"rows": [
        {"response_id": "R1", "answers__nps": 9, "answers__csat": 5, "answers__ces": 2, "channel": "wechat_miniprogram"},
        {"response_id": "R2", "answers__nps": 3, "answers__csat": 1, "answers__ces": 6, "channel": "sms"},
        {"response_id": "R2", "answers__nps": 4, "answers__csat": 2, "answers__ces": 5, "channel": "sms",
         "_voc_updated_at": dt.datetime(2024, 5, 20, tzinfo=dt.timezone.utc)},
    ]},
    "surveys_files": {"rows": [{"file": "surveys/a.jsonl", "records_read": 3, "records_loaded": 3, "records_quarantined": 0}]},
    "surveys_quarantine": {"rows": [{"file": "surveys/a.jsonl", "line": 7, "reason": "invalid_json"}]},
    "tickets": {"rows": [{"ticket_id": "T1", "status": "solved"}, {"ticket_id": "T2", "status": "open"}]},
    "tickets__messages": {"rows": [
        {"author_role": "customer", "_dlt_list_idx": 0},
        {"author_role": "agent", "_dlt_list_idx": 0},
        {"author_role": "customer", "_dlt_list_idx": 1},
    ]},
    "tickets_history": {"rows": [{"ticket_id": "T1", "status": "open"}, {"ticket_id": "T1", "status": "solved"}]},
    "members": {"rows": [{"member_id": "M1"}, {"member_id": "M2"}]},
    "members__bound_accounts": {"rows": [{"platform": "wechat"}, {"platform": "alipay"}]},
}


@pytest.mark.spark
@pytest.mark.dbt
def test_seeds_and_staging_build_on_spark_over_a_parquet_raw_layer(spark, tmp_path):
    lake = tmp_path / "lake"
    _write_raw_layer(lake, RAW_TABLES)
    assert "raw.tickets__messages" in _register_lake(spark, lake)

    _run_dbt(_dbt_args(["build", "--select", "resource_type:seed", "staging", "--exclude-resource-type", "unit_test"],
                       "spark", tmp_path))

    responses = {row.response_id: row.nps for row in spark.table("staging.stg_surveys__responses").collect()}
    assert responses == {"R1": 9, "R2": 4}  # the newest version of R2
    messages = spark.sql(
        "select ticket_id, cast(sent_at as string) as sent_at from staging.stg_tickets__messages order by ticket_id, message_index"
    ).collect()
    # the raw column "at" (in UTC), not the string 'at' that a double-quoted name is on Spark
    assert [(row.ticket_id, row.sent_at) for row in messages] == [
        ("T1", "2024-05-06 01:02:03.456789"), ("T1", "2024-05-08 03:02:03.456789"), ("T2", "2024-05-07 02:02:03.456789")]
    assert spark.table("staging.stg_reviews__reviews").count() == 0  # no reviews table: optional_source
    files = spark.table("staging.stg_loader__files").collect()
    assert [(row.source_family, row.records_read) for row in files] == [("surveys", 3)]
    assert spark.table("seeds.taxonomy").count() >= 39
