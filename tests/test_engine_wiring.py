"""Which store each Dagster step reads and writes per engine (issue 19), without a JVM: the
delivery log's ops file on Spark, its copies of the alerts and routes, and the DuckDB readers."""

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from orchestration.alerts.ops import OPS_DATABASE, delivery_connection, mirror_tables, ops_database_path
from orchestration.engine.readers import engine_reader, warehouse_source
from orchestration.marts_reader import DuckDBMartsReader, WarehouseUnavailable
from orchestration.settings import VocSettings


def _settings(tmp_path: Path, engine: str) -> VocSettings:
    return VocSettings.from_env({"VOC_DUCKDB_PATH": str(tmp_path / "wh" / "voc.duckdb"), "VOC_ENGINE": engine})


def test_the_delivery_log_lives_in_the_warehouse_on_duckdb_and_in_an_ops_file_on_spark(tmp_path):
    assert ops_database_path(_settings(tmp_path, "duckdb")) == tmp_path / "wh" / "voc.duckdb"
    assert ops_database_path(_settings(tmp_path, "spark")) == tmp_path / "wh" / OPS_DATABASE
    assert ops_database_path(_settings(tmp_path, "duckdb"), tmp_path / "other.duckdb") == tmp_path / "other.duckdb"


def _source_with(alerts: pa.Table | None) -> duckdb.DuckDBPyConnection:
    source = duckdb.connect()
    source.execute("create schema marts; create schema seeds")
    source.execute("create table seeds.alert_webhooks as select 'care' as route_to, 'vip' as webhook, 'json' as format")
    if alerts is not None:
        source.register("a", alerts)
        source.execute("create table marts.alerts as select * from a")
    return source


def test_mirror_replaces_the_copies_and_drops_a_mart_the_warehouse_lost(tmp_path):
    ops = duckdb.connect(str(tmp_path / "ops.duckdb"))
    first = pa.table({"alert_id": ["a1", "a2"], "severity": ["high", "low"]})
    copied = mirror_tables(ops, DuckDBMartsReader(connection=_source_with(first)))
    assert copied == ["marts.alerts", "seeds.alert_webhooks"]
    assert ops.execute("select alert_id from marts.alerts order by 1").fetchall() == [("a1",), ("a2",)]
    # a later pass sees the warehouse's current rows, not the ones copied before
    copied = mirror_tables(ops, DuckDBMartsReader(connection=_source_with(pa.table({"alert_id": ["a3"], "severity": ["p1"]}))))
    assert ops.execute("select alert_id, severity from marts.alerts").fetchall() == [("a3", "p1")]
    mirror_tables(ops, DuckDBMartsReader(connection=_source_with(None)))
    assert ops.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = 'alerts'"
    ).fetchone() == (0,)
    assert ops.execute("select webhook from seeds.alert_webhooks").fetchall() == [("vip",)]


def test_the_spark_delivery_connection_is_the_ops_file_with_fresh_copies(tmp_path):
    settings = _settings(tmp_path, "spark")
    reader = DuckDBMartsReader(connection=_source_with(pa.table({"alert_id": ["a9"], "severity": ["high"]})))
    with delivery_connection(settings, reader) as con:
        con.execute("create schema if not exists ops; create table ops.marker as select 1 as x")
    assert not (tmp_path / "wh" / "voc.duckdb").exists()  # the DuckDB warehouse is never created
    with duckdb.connect(str(tmp_path / "wh" / OPS_DATABASE), read_only=True) as ops:
        assert ops.execute("select alert_id from marts.alerts").fetchall() == [("a9",)]
        assert ops.execute("select x from ops.marker").fetchall() == [(1,)]


def test_duckdb_steps_read_the_warehouse_file(tmp_path):
    settings = _settings(tmp_path, "duckdb")
    with pytest.raises(WarehouseUnavailable):
        with engine_reader(settings):
            pass
    settings.warehouse_dir.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema marts; create table marts.kpi as select 1 as n")
    with engine_reader(settings) as reader:
        assert isinstance(reader, DuckDBMartsReader) and reader.scalar("select n from marts.kpi") == 1
    with warehouse_source(settings, settings.warehouse_path) as source:
        assert source == settings.warehouse_path  # GX's SQL data source and the publication open the file
