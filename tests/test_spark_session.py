"""The Spark session factory's configuration and table paths (no JVM: unit tier)."""

from __future__ import annotations

import sys

import pytest

from orchestration.engine.spark_session import (
    DERBY_URL_KEY,
    HIVE,
    IN_MEMORY,
    SparkEngineError,
    lake_table_path,
    lake_tables,
    session_conf,
    table_path,
    taxonomy_store,
)
from orchestration.settings import SparkSettings


def test_a_local_session_is_small_utc_arrow_and_quiet(tmp_path):
    conf = session_conf(SparkSettings("local[2]", str(tmp_path / "wh"), str(tmp_path / "lake")))
    assert conf["spark.master"] == "local[2]" and conf["spark.sql.warehouse.dir"] == str(tmp_path / "wh")
    assert conf["spark.sql.session.timeZone"] == "UTC" and "-Duser.timezone=UTC" in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.sql.execution.pythonUDF.arrow.enabled"] == "true"
    assert conf["spark.sql.ansi.enabled"] == "false"  # as dbt-spark sets it: readers see what dbt saw
    assert conf["spark.sql.shuffle.partitions"] == "4" and conf["spark.ui.enabled"] == "false"
    assert conf["spark.pyspark.python"] == sys.executable  # the workers import nlp_udfs from this venv
    assert conf["spark.sql.catalogImplementation"] == IN_MEMORY and DERBY_URL_KEY not in conf


def test_the_dbt_session_keeps_its_derby_metastore_in_the_warehouse_folder(tmp_path):
    conf = session_conf(SparkSettings("local[1]", str(tmp_path / "wh"), ""), catalog=HIVE)
    assert conf["spark.sql.catalogImplementation"] == HIVE
    assert conf[DERBY_URL_KEY] == f"jdbc:derby:;databaseName={tmp_path / 'wh' / 'metastore_db'};create=true"
    assert f"-Dderby.system.home={tmp_path / 'wh'}" in conf["spark.driver.extraJavaOptions"]


def test_a_cluster_names_its_metastore_and_python_and_the_extra_conf_wins():
    cluster = SparkSettings(
        "spark://head:7077",
        "hdfs://nn:8020/voc/warehouse",
        "s3a://bucket/lake",
        {"spark.hadoop.hive.metastore.uris": "thrift://meta:9083", "spark.pyspark.python": "/opt/voc/bin/python",
         "spark.sql.shuffle.partitions": "400"},
    )
    conf = session_conf(cluster, catalog=HIVE)
    assert DERBY_URL_KEY not in conf and conf["spark.hadoop.hive.metastore.uris"] == "thrift://meta:9083"
    assert conf["spark.pyspark.python"] == "/opt/voc/bin/python" and conf["spark.sql.shuffle.partitions"] == "400"
    assert "spark.ui.enabled" not in conf
    with pytest.raises(SparkEngineError, match="hive.metastore.uris"):
        session_conf(SparkSettings("yarn", "hdfs://nn:8020/voc/warehouse", ""), catalog=HIVE)
    with pytest.raises(ValueError, match="catalog"):
        session_conf(cluster, catalog="glue")


def test_the_one_place_that_knows_table_paths():
    assert table_path("/data/spark-warehouse/", "marts", "fct_feedback") == "/data/spark-warehouse/marts.db/fct_feedback"
    assert table_path("s3a://b/wh", "raw", "surveys") == "s3a://b/wh/raw.db/surveys"
    assert lake_table_path("/data/lake", "tickets__messages") == "/data/lake/raw/tickets__messages"
    assert taxonomy_store(SparkSettings("local[2]", "/wh", "/lake")) == "/wh/_voc_taxonomies"
    for bad in ("marts; drop", "../x", "a.b"):
        with pytest.raises(ValueError):
            table_path("/wh", "marts", bad)


def test_the_lake_lists_table_folders_that_hold_parquet(tmp_path):
    raw = tmp_path / "lake" / "raw"
    (raw / "surveys").mkdir(parents=True)
    (raw / "surveys" / "1700000000.1.parquet").write_bytes(b"PAR1")
    (raw / "surveys_quarantine" / "sub").mkdir(parents=True)
    (raw / "surveys_quarantine" / "sub" / "x.parquet").write_bytes(b"PAR1")
    (raw / "empty_table").mkdir()
    (raw / "init").write_text("")  # dlt's marker file, not a table
    (raw / "bad-name").mkdir()
    (raw / "bad-name" / "x.parquet").write_bytes(b"PAR1")
    assert lake_tables(str(tmp_path / "lake")) == {
        "surveys": f"{tmp_path}/lake/raw/surveys",
        "surveys_quarantine": f"{tmp_path}/lake/raw/surveys_quarantine",
    }
    assert lake_tables(str(tmp_path / "no_lake")) == {}
