"""The marts reader (orchestration/marts_reader.py): the DuckDB reader on a small hand-made warehouse
(unit), and the readers of the scorecard, the summary and the asset metadata on a Parquet copy of
the demo marts read by Spark, against the same readers on the DuckDB demo warehouse (``spark``)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from spark_copy import export_to_spark_warehouse, local_spark_session

from orchestration.marts_reader import (
    DUCKDB_SQL,
    SPARK_SQL,
    DuckDBMartsReader,
    SparkTableLocations,
    WarehouseUnavailable,
    as_reader,
    open_marts_reader,
    split_relation,
)


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "voc.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create schema seeds")
        con.execute(
            "create table marts.fct_feedback (feedback_id varchar, tags varchar[], rating_nps int, created_date date)"
        )
        con.execute(
            "insert into marts.fct_feedback values ('a', ['delivery', 'price'], 10, date '2026-01-05'), "
            "('b', ['delivery'], 3, date '2026-01-06'), ('c', [], null, date '2026-01-06'), ('d', null, 9, null)"
        )
        con.execute(
            "create table marts.kpi_daily (n_promoters int, n_detractors int, n_nps_responses int)"
        )
        con.execute("insert into marts.kpi_daily values (2, 1, 3), (0, 0, 0)")
        con.execute("create table marts.quarantine_summary (source_family varchar, reason varchar, n_quarantined bigint)")
        con.execute("insert into marts.quarantine_summary values ('surveys', 'bad_score', 2), ('surveys', 'no_id', 1)")
        con.execute("create table seeds.kpi_targets (metric varchar, direction varchar)")
    return path


def test_duckdb_reader_answers_in_arrow_rows_and_values(warehouse):
    with DuckDBMartsReader(warehouse) as reader:
        table = reader.query("select feedback_id from marts.fct_feedback where rating_nps >= ? order by 1", [9])
        assert isinstance(table, pa.Table) and table.column("feedback_id").to_pylist() == ["a", "d"]
        assert reader.rows("select feedback_id, created_date from marts.fct_feedback where feedback_id = ?", ["a"]) == [
            {"feedback_id": "a", "created_date": dt.date(2026, 1, 5)}
        ]
        assert reader.scalar("select count(*) from marts.fct_feedback") == 4
        assert reader.table("marts.fct_feedback", ["feedback_id"]).num_rows == 4
        assert reader.exists("marts.kpi_daily") and not reader.exists("marts.nothing")
        assert reader.tables("marts") == ["fct_feedback", "kpi_daily", "quarantine_summary"]
        assert reader.schemas_of("kpi_targets") == ["seeds"]
        assert reader.text_columns("marts.fct_feedback") == ["feedback_id", "tags"]
        sql = reader.dialect
        assert reader.scalar(f"select count(*) from marts.fct_feedback where {sql.list_contains('tags', '?')}", ["price"]) == 1
        lengths = reader.rows(f"select {sql.list_length('tags')} as n from marts.fct_feedback order by feedback_id")
        assert [row["n"] for row in lengths] == [2, 1, 0, None]


def test_duckdb_reader_is_read_only(warehouse):
    with DuckDBMartsReader(warehouse) as reader, pytest.raises(duckdb.Error):
        reader.query("delete from marts.fct_feedback")


def test_a_missing_or_busy_warehouse_is_unavailable_not_a_crash(warehouse, tmp_path):
    with pytest.raises(WarehouseUnavailable, match="No warehouse"):
        DuckDBMartsReader(tmp_path / "missing.duckdb")
    with duckdb.connect(str(warehouse)):  # a writer holds the file (in-process: another configuration)
        with pytest.raises(WarehouseUnavailable, match="in use"):
            DuckDBMartsReader(warehouse)


def test_an_open_connection_is_wrapped_and_left_open(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        with as_reader(con) as reader:
            assert reader.scalar("select count(*) from marts.kpi_daily") == 2
        assert con.execute("select 1").fetchone() == (1,)  # the caller's connection is still open


def test_settings_choose_the_reader(warehouse):
    class Settings:
        warehouse_path = warehouse
        uses_spark = False

    with open_marts_reader(Settings()) as reader:
        assert isinstance(reader, DuckDBMartsReader)

    class SparkSettings(Settings):
        uses_spark = True

    with pytest.raises(ValueError, match="SparkSession"):
        open_marts_reader(SparkSettings())


def test_the_dialects_spell_what_differs():
    assert DUCKDB_SQL.relation("marts", "a b") == '"marts"."a b"'
    assert SPARK_SQL.relation("marts", "a`b") == "`marts`.`a``b`"
    assert SPARK_SQL.list_contains("tags", "?") == "array_contains(tags, ?)"
    assert SPARK_SQL.unnest("tags") == "explode(tags)"
    assert DUCKDB_SQL.parquet("/x/it's.parquet") == "read_parquet('/x/it''s.parquet')"
    assert SPARK_SQL.parquet("/x/k.parquet") == "parquet.`/x/k.parquet`"
    with pytest.raises(ValueError):
        split_relation("marts.x; drop table y")


def test_spark_locations_follow_the_warehouse_and_lake_layouts(tmp_path):
    locations = SparkTableLocations(warehouse_dir=str(tmp_path / "wh"), lake_dir="s3a://bucket/lake")
    assert locations.candidates("marts", "alerts") == [f"{tmp_path}/wh/marts.db/alerts"]
    assert locations.candidates("raw", "surveys") == [f"{tmp_path}/wh/raw.db/surveys", "s3a://bucket/lake/raw/surveys"]
    (tmp_path / "wh" / "marts.db").mkdir(parents=True)
    assert locations.schema_dirs() == [("marts", str(tmp_path / "wh" / "marts.db"))]


def test_summary_reads_through_the_reader(warehouse):
    from orchestration.summary import summarize_warehouse

    summary = summarize_warehouse(warehouse)
    assert summary.mart_rows == {"fct_feedback": 4, "kpi_daily": 2, "quarantine_summary": 2}
    assert summary.nps == pytest.approx(100 * (2 - 1) / 3) and summary.nps_responses == 3
    assert summary.top_tags == [("delivery", 2), ("price", 1)]
    assert summary.quarantined == {"surveys": 3}


# --- the same readers on Spark ---------------------------------------------------------------

SCORECARD_TABLES = (
    "marts.kpi_scorecard",
    "marts.kpi_weekly",
    "marts.kpi_daily",
    "marts.fct_feedback",
    "marts.alerts",
    "marts.ticket_sla_by_team",
    "marts.improvement_baseline",
    "marts.driver_impact",
    "marts.closed_loop_weekly",
    "marts.quarantine_summary",
)


def normalized(value):
    """Values as both engines must agree on them: instants in UTC, numbers as floats."""
    if isinstance(value, dict):
        return {key: normalized(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalized(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if isinstance(value, bool) or value is None or isinstance(value, (str, dt.date)):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return None if math.isnan(number) else round(number, 9)
    return value


@pytest.fixture(scope="module")
def spark():
    session = local_spark_session("test_marts_reader")
    yield session
    session.stop()


@pytest.mark.spark
def test_a_spark_relation_reads_by_name_before_any_query_named_it(spark, tmp_path):
    from orchestration.marts_reader import SparkMartsReader

    spark.createDataFrame([(1, "a")], "id int, name string").write.parquet(str(tmp_path / "marts.db" / "fresh_mart"))
    reader = SparkMartsReader(spark, SparkTableLocations(warehouse_dir=str(tmp_path)))
    assert reader.table("marts.fresh_mart", ["name"]).to_pylist() == [{"name": "a"}]


@pytest.fixture(scope="module")
def spark_copy(demo_warehouse, spark, tmp_path_factory):
    from orchestration.marts_reader import SparkMartsReader

    spark_dir = tmp_path_factory.mktemp("spark-warehouse")
    with DuckDBMartsReader(demo_warehouse.warehouse_path) as reader:
        seeds = [f"{schema}.kpi_targets" for schema in reader.schemas_of("kpi_targets")]
    export_to_spark_warehouse(demo_warehouse.warehouse_path, (*SCORECARD_TABLES, *seeds), spark_dir)
    return SparkMartsReader(spark, SparkTableLocations(warehouse_dir=str(spark_dir)))


@pytest.mark.spark
@pytest.mark.e2e
def test_scorecard_reads_the_same_on_spark_and_duckdb(demo_warehouse, spark_copy):
    from orchestration.reports.scorecard_data import load_scorecard

    with DuckDBMartsReader(demo_warehouse.warehouse_path) as reader:
        expected = load_scorecard(reader)
    actual = load_scorecard(spark_copy)
    assert expected.headline and expected.rising_tags and expected.p1_alerts  # the demo has all sections
    for section in vars(expected):
        assert normalized(getattr(actual, section)) == normalized(getattr(expected, section)), section


@pytest.mark.spark
@pytest.mark.e2e
def test_summary_and_metadata_read_the_same_on_spark_and_duckdb(demo_warehouse, spark_copy):
    from orchestration import metadata as md
    from orchestration.summary import summarize

    with DuckDBMartsReader(demo_warehouse.warehouse_path) as reader:
        expected = summarize(reader, Path("x"))
        expected_md = (md.top_tags(reader), md.overall_nps(reader), md.open_alerts_by_severity(reader))
        expected_preview = md.masked_preview(reader, "marts", "fct_feedback", md.FEEDBACK_PREVIEW_COLUMNS, "feedback_id")
    spark_copy.spark.range(1).createOrReplaceTempView("tmp_view")  # as GX's Spark data source leaves one
    actual = summarize(spark_copy, Path("x"))
    assert "tmp_view" not in actual.mart_rows
    assert {t: n for t, n in actual.mart_rows.items() if f"marts.{t}" in SCORECARD_TABLES} == {
        t: n for t, n in expected.mart_rows.items() if f"marts.{t}" in SCORECARD_TABLES
    }
    assert (actual.nps, actual.nps_responses, actual.top_tags, actual.quarantined) == (
        pytest.approx(expected.nps), expected.nps_responses, expected.top_tags, expected.quarantined
    )
    assert (md.top_tags(spark_copy), md.overall_nps(spark_copy), md.open_alerts_by_severity(spark_copy)) == expected_md
    assert md.masked_preview(spark_copy, "marts", "fct_feedback", md.FEEDBACK_PREVIEW_COLUMNS, "feedback_id") == expected_preview


@pytest.mark.spark
@pytest.mark.e2e
def test_publish_copies_the_same_marts_from_spark(demo_warehouse, spark_copy, tmp_path):
    from orchestration.publish.publication import DATABASE_NAME, MartSpec, publish

    marts = [MartSpec(name, name, "", {}, ()) for name in ("kpi_weekly", "alerts")]
    published = {}
    for engine, source in (("duckdb", demo_warehouse.warehouse_path), ("spark", spark_copy)):
        publication = publish(source, tmp_path / engine, marts, "run", "rev", [], keep=1)
        with duckdb.connect(str(publication.path / DATABASE_NAME), read_only=True) as con:
            published[engine] = {
                mart.name: [
                    normalized(dict(zip([c[0] for c in cursor.description], row)))
                    for cursor in [con.execute(f"select * from {mart.name} order by all")]
                    for row in cursor.fetchall()
                ]
                for mart in marts
            }
    assert published["duckdb"]["alerts"] and published["spark"] == published["duckdb"]
