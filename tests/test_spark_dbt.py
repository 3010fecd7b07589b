"""dbt on Spark through the wrapper (``voc-spark-dbt``): lake tables, UDFs, a persistent catalog.

A small dbt project of its own (a seed, a source over a Parquet lake written here in dlt's
layout, a table, and an incremental model that calls ``voc_analyse``, ``voc_tag`` with a
taxonomy handle and ``voc_pseudonym``) is built twice by the wrapper, started as dagster-dbt
starts dbt: a subprocess with ``--vars``, the key in ``DBT_ENV_SECRET_VOC_HASH_KEY``. Between
the builds the lake gets a second load file, so the second build shows that the lake is
registered again and the incremental model finds its table in the metastore. A reader session
(in-memory catalog, by path) then checks the rows against the DuckDB registration.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nlp_udfs import duckdb_functions, pseudonyms
from nlp_udfs.config import NlpConfig
from orchestration.settings import DBT_KEY_VARIABLE, SparkSettings

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

pytest.importorskip("pyspark", reason="the spark extra is not installed (make install EXTRAS=spark)")
pytest.importorskip("dbt.adapters.spark", reason="the spark extra is not installed (make install EXTRAS=spark)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17 (apt-get install openjdk-17-jre-headless)", allow_module_level=True)

KEY = b"dbt on spark key"
WRAPPER = str(Path(sys.executable).with_name("voc-spark-dbt"))
FIRST_LOAD = [
    (1, "物流太慢了,等了一周才到,包装也破了"),
    (2, "客服态度很好,退款很快,电话13800138000"),
    (3, None),
    (4, "😀 好评!!"),
]
SECOND_LOAD = [(5, "快递员把包装压坏了,客服没人理"), (6, "")]

PROJECT_FILES = {
    "dbt_project.yml": """
name: voc_spark_test
version: "0.1.0"
config-version: 2
profile: voc_spark_test
models:
  voc_spark_test:
    +file_format: parquet
seeds:
  voc_spark_test:
    +schema: seeds
    +file_format: parquet
""",
    "profiles.yml": """
voc_spark_test:
  target: spark
  outputs:
    spark:
      type: spark
      method: session
      host: NA
      schema: voc
      threads: 1
""",
    "macros/generate_schema_name.sql": """
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%} {{ target.schema | trim }}
    {%- else -%} {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
""",
    "seeds/taxonomy.csv": """tag,l1,l2,keywords,negative_keywords,is_complaint
物流体验-时效性,物流体验,时效性,物流*慢|等了一周|快递*慢,,true
物流体验-包装破损,物流体验,包装破损,包装*破|压坏|破损,,true
客户服务-响应速度,客户服务,响应速度,没人理|态度*好,,true
""",
    "models/sources.yml": """
version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: feedback
""",
    "models/stg_feedback.sql": """
{{ config(materialized='table', schema='staging') }}
select cast(id as int) as id, body from {{ source('raw', 'feedback') }}
""",
    # Spark 4.3 fails a Python UDF whose argument is a scalar subquery that calls a Python UDF, so
    # the taxonomy handle is cross joined (docs/spark.md)
    "models/text_analysis.sql": """
{{ config(materialized='incremental', incremental_strategy='append', schema='intermediate') }}
with
    taxonomy as (
        select to_json(collect_list(named_struct(
            'tag', tag, 'l1', l1, 'l2', l2, 'keywords', keywords,
            'negative_keywords', negative_keywords, 'is_complaint', is_complaint))) as taxonomy_json
        from {{ ref('taxonomy') }}
    ),
    handle as (select taxonomy_json, voc_taxonomy_handle(taxonomy_json) as enrichment_version from taxonomy),
    pending as (
        select id, body from {{ ref('stg_feedback') }}
        {% if is_incremental() %} where id not in (select id from {{ this }}) {% endif %}
    ),
    analysed as (
        select id, body, voc_analyse(body, (select count(*) from pending)) as nlp from pending
    )
select
    analysed.id,
    analysed.nlp.text_masked as text_masked,
    analysed.nlp.sentiment_score as sentiment_score,
    voc_tag(analysed.nlp.clauses, analysed.nlp.sentiment_score, handle.enrichment_version, cast(null as bigint)).tags as tags,
    voc_pseudonym('feedback', cast(analysed.id as string)) as id_hash,
    handle.enrichment_version,
    handle.taxonomy_json
from analysed
cross join handle
""",
}


def _write_load(lake: Path, name: str, rows: list[tuple[int, str | None]]) -> None:
    folder = lake / "raw" / "feedback"  # dlt's filesystem layout: <lake>/<dataset>/<table>/<load>.parquet
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table({"id": pa.array([r[0] for r in rows], pa.int64()), "body": pa.array([r[1] for r in rows], pa.string())})
    pq.write_table(table, folder / f"{name}.parquet")


def _build(project: Path, spark: SparkSettings, target: Path) -> subprocess.CompletedProcess:
    variables = {"voc_spark_master": spark.master, "voc_lake_dir": spark.lake_dir, "voc_spark_warehouse_dir": spark.warehouse_dir}
    env = {**os.environ, DBT_KEY_VARIABLE: pseudonyms.encode_key(KEY), "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target)}
    return subprocess.run(
        [WRAPPER, "build", "--project-dir", str(project), "--profiles-dir", str(project), "--vars", json.dumps(variables)],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark_dbt")
    project = root / "project"
    for name, text in PROJECT_FILES.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text.lstrip(), encoding="utf-8")
    spark = SparkSettings("local[2]", str(root / "spark-warehouse"), str(root / "lake"))
    _write_load(root / "lake", "1700000000.1", FIRST_LOAD)
    first = _build(project, spark, root / "target1")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    _write_load(root / "lake", "1700000100.1", SECOND_LOAD)
    second = _build(project, spark, root / "target2")
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    return spark, first, second, root


@pytest.fixture(scope="module")
def reader(built):
    from orchestration.engine.spark_session import spark_session

    session = spark_session(built[0])  # in-memory catalog: reads by path, never opens the metastore
    yield session
    session.stop()


def test_the_wrapper_builds_twice_and_the_second_build_is_incremental(built, reader):
    from orchestration.engine.spark_session import read_table

    spark, first, second, root = built
    assert (root / "spark-warehouse" / "metastore_db").is_dir()  # the Hive catalog, in the warehouse dir
    assert "Completed successfully" in first.stdout and "Completed successfully" in second.stdout
    rows = read_table(reader, spark, "intermediate", "text_analysis").orderBy("id").collect()
    assert [row.id for row in rows] == [1, 2, 3, 4, 5, 6]  # rows of both loads, each once
    assert read_table(reader, spark, "seeds", "taxonomy").count() == 3


def test_the_udfs_in_dbt_give_what_duckdb_gives(built, reader):
    import duckdb

    from orchestration.engine.spark_session import read_table

    spark, *_ = built
    rows = {row.id: row for row in read_table(reader, spark, "intermediate", "text_analysis").collect()}
    texts = dict(FIRST_LOAD + SECOND_LOAD)
    taxonomy_json = rows[1].taxonomy_json
    with duckdb.connect() as con:
        duckdb_functions.register_functions(con, NlpConfig(workers=1))
        pseudonyms.register(con, KEY)
        con.register("inputs", pa.table({"id": list(texts), "body": pa.array(list(texts.values()), pa.string())}))
        expected = con.execute(
            """with h as (select voc_taxonomy_handle(?) as handle),
               a as (select id, voc_analyse(body, null) as nlp from inputs)
               select id, nlp.text_masked, nlp.sentiment_score,
                      voc_tag(nlp.clauses, nlp.sentiment_score, handle, null).tags,
                      voc_pseudonym('feedback', cast(id as varchar)), handle
               from a cross join h order by id""",
            [taxonomy_json],
        ).fetchall()
    got = [
        (row.id, row.text_masked, row.sentiment_score, list(row.tags), row.id_hash, row.enrichment_version)
        for row in (rows[key] for key in sorted(rows))
    ]
    assert got == [tuple(row) for row in expected]
    assert "13800138000" not in str(got)  # masked in the Python workers
    assert rows[1].tags and rows[5].tags  # tags were matched, through the taxonomy store


def test_the_key_reaches_no_artifact_or_log(built):
    spark, first, second, root = built
    secret = pseudonyms.encode_key(KEY)
    for path in [*(root / "target1").rglob("*"), *(root / "target2").rglob("*")]:
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert secret not in text and KEY.decode() not in text, path
    assert secret not in first.stdout + first.stderr + second.stdout + second.stderr


def test_commands_without_a_connection_start_no_jvm(tmp_path):
    from orchestration.engine.spark_dbt import dbt_command, dbt_vars, needs_session

    assert not needs_session(["--version"]) and not needs_session(["parse", "--quiet"])
    assert needs_session(["build", "--exclude-resource-type", "unit_test"])
    assert dbt_command(["--profiles-dir", "x", "run"]) == "run"
    assert dbt_vars(["build", "--vars", '{"voc_lake_dir": "/l"}']) == {"voc_lake_dir": "/l"}
    assert dbt_vars(["build", "--vars={voc_spark_master: 'local[1]'}"]) == {"voc_spark_master": "local[1]"}
    version = subprocess.run([WRAPPER, "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and "1.11" in version.stdout


def test_the_engine_switch_runs_the_same_dbt_assets_through_the_wrapper(tmp_path):
    from orchestration.project import DBT_EXECUTABLE, SPARK_DBT_EXECUTABLE
    from orchestration.resources import build_resources
    from orchestration.settings import VocSettings

    environ = {"VOC_DUCKDB_PATH": str(tmp_path / "warehouse" / "voc.duckdb")}
    duckdb_dbt = build_resources(VocSettings.from_env(environ))["dbt"]
    spark_dbt = build_resources(VocSettings.from_env({**environ, "VOC_ENGINE": "spark"}))["dbt"]
    assert (duckdb_dbt.dbt_executable, duckdb_dbt.target) == (DBT_EXECUTABLE, None)
    assert (spark_dbt.dbt_executable, spark_dbt.target) == (SPARK_DBT_EXECUTABLE, "spark")
    assert spark_dbt.project_dir == duckdb_dbt.project_dir  # one project, one manifest: the same asset keys


def test_without_the_extra_the_wrapper_says_what_to_install(tmp_path):
    """The wrapper's error path, as a fresh DuckDB-only install sees it (pyspark hidden)."""
    script = (
        "import sys; sys.modules['pyspark'] = None\n"
        "from orchestration.engine.spark_dbt import main\n"
        "sys.exit(main(['build']))\n"
    )
    path = tmp_path / "no_pyspark.py"
    path.write_text(script, encoding="utf-8")
    env = {**os.environ, "VOC_DUCKDB_PATH": str(tmp_path / "warehouse" / "voc.duckdb")}
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 2 and "make install EXTRAS=spark" in result.stderr
    assert not (tmp_path / "spark-warehouse").exists()  # stopped before it wrote anything
