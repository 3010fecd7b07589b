"""Publications without the pipeline: which marts, the format, the atomic swap, retention and
rollback, on a small hand-made warehouse and dbt manifest (orchestration/publish/publication.py)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from orchestration.publish.publication import (
    BUILD_PREFIX,
    CURRENT_LINK,
    DATABASE_NAME,
    MANIFEST_NAME,
    PUBLICATIONS_DIR,
    PublicationError,
    current_publication,
    filter_columns,
    list_publications,
    primary_key_of,
    public_marts,
    publish,
    rollback,
)

T0 = datetime(2026, 12, 7, 5, 0, tzinfo=timezone.utc)


def _model(name, schema="marts", columns=(), materialized="table", constraints=(), description=""):
    return f"model.voc.{name}", {
        "resource_type": "model", "name": name, "alias": name, "description": description,
        "config": {"schema": schema, "materialized": materialized},
        "constraints": list(constraints),
        "columns": {column: {"name": column, "description": f"about {column}", "constraints": []} for column in columns},
    }


def _test(model, name, column=None, **kwargs):
    return f"test.voc.{name}_{model}_{column or ''}", {
        "resource_type": "test", "attached_node": f"model.voc.{model}", "column_name": column,
        "test_metadata": {"name": name, "kwargs": {"column_name": column, **kwargs}},
    }


def _manifest():
    nodes = dict([
        _model("fct_orders", columns=("order_id", "order_date", "store_id", "amount", "note"),
               description="One row per order; it's a test."),
        _model("kpi_weekly", columns=("week_start", "source", "tag", "n")),
        _model("stg_orders", schema="staging", columns=("order_id",)),
        _model("mart_helper", materialized="ephemeral", columns=("x",)),
        _test("fct_orders", "unique", "order_id"),
        _test("fct_orders", "not_null", "order_id"),
        _test("kpi_weekly", "unique_combination", columns=["week_start", "source", "tag"]),
    ])
    return {"nodes": nodes}


def _warehouse(path: Path, orders: int = 5) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(f"""create or replace table marts.fct_orders as
            select 'o' || range as order_id, date '2026-12-01' + range::int as order_date, 'S' || (range % 3) as store_id,
                   range * 1.5 as amount, null::varchar as note from range({orders})""")
        con.execute("""create or replace table marts.kpi_weekly as
            select date '2026-11-30' as week_start, 'survey' as source, ['a', 'b'][1 + range % 2] as tag, range as n
            from range(2)""")
        con.execute("create schema if not exists staging")
        con.execute("create or replace view staging.stg_orders as select 1 as order_id")
    return path


def _publish(warehouse, publish_dir, run_id, keep=7, at=T0, manifest=None):
    return publish(warehouse, publish_dir, public_marts(manifest or _manifest()), run_id=run_id,
                   git_revision="abc123", checks_passed=["marts/fct_orders:gx_errors"], keep=keep, now=at)


def test_the_marts_layer_is_published_with_its_keys():
    marts = {mart.name: mart for mart in public_marts(_manifest())}
    assert list(marts) == ["fct_orders", "kpi_weekly"]  # not staging, not an ephemeral model
    assert marts["fct_orders"].primary_key == ("order_id",)
    assert marts["kpi_weekly"].primary_key == ("week_start", "source", "tag")
    assert marts["fct_orders"].columns["amount"] == "about amount"


def test_primary_key_prefers_the_contract_and_is_empty_without_one():
    _, node = _model("m", columns=("a", "b"), constraints=[{"type": "primary_key", "columns": ["a", "b"]}])
    assert primary_key_of(node, [_test("m", "unique", "b")[1], _test("m", "not_null", "b")[1]]) == ["a", "b"]
    _, node = _model("m", columns=("a", "b"))
    node["columns"]["b"]["constraints"] = [{"type": "not_null"}]
    assert primary_key_of(node, [_test("m", "unique", "b")[1]]) == ["b"]  # not_null by constraint counts
    assert primary_key_of(node, [_test("m", "unique", "a")[1]]) == []  # unique alone is not a key
    assert primary_key_of(node, [_test("m", "unique_combination_of_columns", combination_of_columns=["a", "b"])[1]]) == ["a", "b"]


def test_filter_columns_by_name():
    columns = ["feedback_id", "created_at", "created_date", "source", "channel", "store_id", "home_store_id",
               "region", "primary_tag", "tag", "week_start", "period_start", "period_type", "kpi_date", "n_feedback",
               "tags", "store_city", "sources"]
    assert filter_columns(columns) == ["created_date", "source", "channel", "store_id", "home_store_id", "region",
                                       "primary_tag", "tag", "week_start", "period_start", "period_type", "kpi_date"]


def test_a_publication_has_the_agreed_format(tmp_path):
    (tmp_path / "wh").mkdir()
    warehouse = _warehouse(tmp_path / "wh" / "voc.duckdb")
    publish_dir = tmp_path / "published"
    publication = _publish(warehouse, publish_dir, "run-1")
    assert publication.path.parent == publish_dir / PUBLICATIONS_DIR
    assert not list(publish_dir.glob(f"{BUILD_PREFIX}*"))
    # the stable paths resolve through `current`
    assert (publish_dir / DATABASE_NAME).resolve() == (publication.path / DATABASE_NAME).resolve()
    assert (publish_dir / MANIFEST_NAME).resolve() == (publication.path / MANIFEST_NAME).resolve()
    assert current_publication(publish_dir).path == publication.path

    manifest = json.loads((publish_dir / MANIFEST_NAME).read_text("utf-8"))
    assert manifest["format"] == 1 and manifest["run_id"] == "run-1" and manifest["git_revision"] == "abc123"
    assert manifest["published_at"] == "2026-12-07T05:00:00+00:00"
    assert manifest["checks_passed"] == ["marts/fct_orders:gx_errors"]
    orders = manifest["marts"]["fct_orders"]
    assert orders["rows"] == 5 and orders["parquet"] == "parquet/fct_orders.parquet"
    assert orders["description"] == "One row per order; it's a test."
    assert orders["primary_key"] == ["order_id"] and orders["filter_columns"] == ["order_date", "store_id"]
    assert orders["columns"][:2] == [{"name": "order_id", "type": "VARCHAR", "description": "about order_id"},
                                     {"name": "order_date", "type": "DATE", "description": "about order_date"}]
    assert manifest["marts"]["kpi_weekly"]["filter_columns"] == ["week_start", "source", "tag"]

    with duckdb.connect(str(publish_dir / DATABASE_NAME), read_only=True) as con:
        assert con.execute("select run_id, git_revision, published_at from _publication").fetchall() == [
            ("run-1", "abc123", T0)]
        assert con.execute("select comment from duckdb_tables() where table_name = 'fct_orders'").fetchone() == (
            "One row per order; it's a test.",)
        comments = dict(con.execute(
            "select column_name, comment from duckdb_columns() where table_name = 'fct_orders'").fetchall())
        assert comments["amount"] == "about amount"
        for mart in ("fct_orders", "kpi_weekly"):
            parquet = publish_dir / manifest["marts"][mart]["parquet"]
            assert con.execute(f"select count(*) from '{parquet}'").fetchone()[0] == manifest["marts"][mart]["rows"]
            assert con.execute(f"select * from {mart} order by all").fetchall() == con.execute(
                f"select * from '{parquet}' order by all").fetchall()
        assert {row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()} == {
            "fct_orders", "kpi_weekly", "_publication"}
    # never written again: read-only on disk
    for path in (publication.path / DATABASE_NAME, publication.path / MANIFEST_NAME, publish_dir / orders["parquet"]):
        assert stat.S_IMODE(path.resolve().stat().st_mode) == 0o444


def test_a_new_publication_swaps_for_new_readers_only(tmp_path):
    (tmp_path / "wh").mkdir()
    warehouse = _warehouse(tmp_path / "wh" / "voc.duckdb")
    publish_dir = tmp_path / "published"
    _publish(warehouse, publish_dir, "run-1")
    old_reader = duckdb.connect(str(publish_dir / DATABASE_NAME), read_only=True)
    _warehouse(warehouse, orders=9)
    second = _publish(warehouse, publish_dir, "run-2", at=T0 + timedelta(days=1))
    assert current_publication(publish_dir).path == second.path
    # the reader that had the file open reads the old publication, whole
    assert old_reader.execute("select (select run_id from _publication), (select count(*) from fct_orders)").fetchone() == ("run-1", 5)
    old_reader.close()
    with duckdb.connect(str(publish_dir / DATABASE_NAME), read_only=True) as con:
        assert con.execute("select (select run_id from _publication), (select count(*) from fct_orders)").fetchone() == ("run-2", 9)


def test_a_missing_mart_publishes_nothing(tmp_path):
    (tmp_path / "wh").mkdir()
    warehouse = _warehouse(tmp_path / "wh" / "voc.duckdb")
    publish_dir = tmp_path / "published"
    first = _publish(warehouse, publish_dir, "run-1")
    manifest = _manifest()
    manifest["nodes"].update(dict([_model("fct_new", columns=("id",))]))
    with pytest.raises(PublicationError, match="fct_new"):
        _publish(warehouse, publish_dir, "run-2", at=T0 + timedelta(days=1), manifest=manifest)
    assert current_publication(publish_dir).path == first.path
    assert [p.run_id for p in list_publications(publish_dir)] == ["run-1"]
    assert not list(publish_dir.glob(f"{BUILD_PREFIX}*"))


def test_the_newest_publications_are_kept(tmp_path):
    (tmp_path / "wh").mkdir()
    warehouse = _warehouse(tmp_path / "wh" / "voc.duckdb")
    publish_dir = tmp_path / "published"
    for day in range(4):
        _publish(warehouse, publish_dir, f"run-{day}", keep=2, at=T0 + timedelta(days=day))
    assert [p.run_id for p in list_publications(publish_dir)] == ["run-2", "run-3"]
    assert current_publication(publish_dir).run_id == "run-3"


def test_rollback_restores_the_previous_publication_and_refuses_without_one(tmp_path):
    (tmp_path / "wh").mkdir()
    warehouse = _warehouse(tmp_path / "wh" / "voc.duckdb")
    publish_dir = tmp_path / "published"
    with pytest.raises(PublicationError, match="nothing is published"):
        rollback(publish_dir)
    _publish(warehouse, publish_dir, "run-1")
    with pytest.raises(PublicationError, match="no earlier publication"):
        rollback(publish_dir)
    _publish(warehouse, publish_dir, "run-2", at=T0 + timedelta(days=1))
    _publish(warehouse, publish_dir, "run-3", at=T0 + timedelta(days=2))
    before = (publish_dir / MANIFEST_NAME).resolve()
    left, now_current = rollback(publish_dir)
    assert (left.run_id, now_current.run_id) == ("run-3", "run-2")
    with duckdb.connect(str(publish_dir / DATABASE_NAME), read_only=True) as con:
        assert con.execute("select run_id from _publication").fetchone() == ("run-2",)
    assert before.is_file()  # the publication left is kept (marked), not deleted
    # a new night publishes and becomes current; a rollback then skips the one rolled back from
    _publish(warehouse, publish_dir, "run-4", at=T0 + timedelta(days=3))
    assert rollback(publish_dir)[1].run_id == "run-2"
    assert rollback(publish_dir)[1].run_id == "run-1"
    with pytest.raises(PublicationError, match="no earlier publication"):
        rollback(publish_dir)
    assert current_publication(publish_dir).run_id == "run-1"
    assert os.readlink(publish_dir / CURRENT_LINK).startswith(PUBLICATIONS_DIR)


READER = textwrap.dedent("""
    import json, os, sys, duckdb
    path, out, stop = sys.argv[1:4]
    answers, stopping = [], False
    while True:
        stopping = stopping or os.path.exists(stop)  # the last read starts after the last swap
        try:
            with duckdb.connect(path, read_only=True) as con:
                answers.append(list(con.execute(
                    "select (select run_id from _publication), (select count(*) from fct_orders)").fetchone()))
        except Exception as exc:
            answers.append(["error", repr(exc)])
        if stopping:
            break
    open(out, "w").write(json.dumps(answers))
""")


def test_a_reader_in_a_loop_sees_whole_publications_only(tmp_path):
    (tmp_path / "wh").mkdir()
    warehouse = _warehouse(tmp_path / "wh" / "voc.duckdb")
    publish_dir = tmp_path / "published"
    _publish(warehouse, publish_dir, "run-0", keep=3)
    out, stop = tmp_path / "answers.json", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(publish_dir / DATABASE_NAME), str(out), str(stop)])
    try:
        for day in range(1, 6):
            _warehouse(warehouse, orders=5 + day)
            _publish(warehouse, publish_dir, f"run-{day}", keep=3, at=T0 + timedelta(days=day))
    finally:
        stop.touch()
        assert reader.wait(timeout=120) == 0
    answers = json.loads(out.read_text())
    assert [a for a in answers if a[0] == "error"] == []
    # every answer is one whole publication: its run id goes with its row count
    assert all(count == 5 + int(run_id.split("-")[1]) for run_id, count in answers)
    assert answers[-1] == ["run-5", 10]
    assert len({run_id for run_id, _ in answers}) > 1, answers  # the loop did span swaps


@pytest.mark.dagster
def test_publishing_by_hand_refuses_marts_whose_latest_check_failed(tmp_path):
    """Picked alone in the UI, published_marts has no blocking check upstream in its run: it
    looks at the latest evaluation of the marts' ERROR checks itself."""
    import dagster as dg

    from orchestration.publish.asset import build_published_marts
    from orchestration.resources import VocWarehouse
    from orchestration.settings import VocSettings

    (tmp_path / "wh").mkdir()
    settings = VocSettings(landing_dir=tmp_path / "landing", warehouse_path=_warehouse(tmp_path / "wh" / "voc.duckdb"))
    mart = dg.AssetKey(["marts", "fct_orders"])
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetCheckEvaluation(
        asset_key=mart, check_name="gx_errors", passed=False, severity=dg.AssetCheckSeverity.ERROR))
    instance.report_runless_asset_event(dg.AssetCheckEvaluation(
        asset_key=mart, check_name="gx_warnings", passed=False, severity=dg.AssetCheckSeverity.WARN))
    asset = build_published_marts([mart], [dg.AssetCheckKey(mart, "gx_errors"), dg.AssetCheckKey(mart, "gx_warnings")])
    result = dg.materialize([asset], instance=instance, raise_on_error=False,
                            resources={"settings": settings, "warehouse": VocWarehouse.from_settings(settings)})
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "marts/fct_orders:gx_errors" in message and "gx_warnings" not in message
    assert current_publication(settings.publish_dir) is None


@pytest.mark.dagster
def test_voc_run_says_whether_the_run_published(tmp_path):
    from types import SimpleNamespace

    from orchestration.cli import _publication_line
    from orchestration.publish.asset import PUBLISHED_MARTS_KEY
    from orchestration.settings import VocSettings

    (tmp_path / "wh").mkdir()
    settings = VocSettings(landing_dir=tmp_path / "landing", warehouse_path=_warehouse(tmp_path / "wh" / "voc.duckdb"))

    def result(*keys):
        return SimpleNamespace(get_asset_materialization_events=lambda: [SimpleNamespace(asset_key=k) for k in keys])

    assert _publication_line(settings, result()) == (
        "NOT published: a step or blocking check before published_marts failed; nothing is published yet")
    publication = _publish(settings.warehouse_path, settings.publish_dir, "run-1")
    assert _publication_line(settings, result(PUBLISHED_MARTS_KEY)).startswith(f"Published: {publication.path}")
    assert _publication_line(settings, result()).endswith(f"readers keep {publication.name} (run run-1)")


def test_a_mart_that_did_not_change_shares_its_parquet_file_with_the_previous_night(tmp_path):
    """Unchanged content (fingerprint) -> the same Parquet file, hard-linked; a changed mart is
    written anew; the shared file outlives the publication it came from."""
    warehouse, publish_dir = _warehouse(tmp_path / "voc.duckdb"), tmp_path / "published"
    first = _publish(warehouse, publish_dir, "run-1", keep=1)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.fct_orders set amount = amount + 1 where order_id = 'o2'")
    second = _publish(warehouse, publish_dir, "run-2", keep=1, at=T0 + timedelta(days=1))

    def inode(publication, mart):
        return (publication.path / publication.manifest["marts"][mart]["parquet"]).stat().st_ino

    assert second.manifest["marts"]["kpi_weekly"]["fingerprint"] == first.manifest["marts"]["kpi_weekly"]["fingerprint"]
    assert second.manifest["marts"]["fct_orders"]["fingerprint"] != first.manifest["marts"]["fct_orders"]["fingerprint"]
    assert not first.path.exists()  # pruned (keep=1): the linked file lives on in the second
    kpi = second.path / second.manifest["marts"]["kpi_weekly"]["parquet"]
    assert kpi.stat().st_nlink == 1
    with duckdb.connect() as con:
        assert con.execute(f"select count(*), sum(n) from '{kpi}'").fetchone() == (2, 1)
        orders = second.path / second.manifest["marts"]["fct_orders"]["parquet"]
        assert con.execute(f"select amount from '{orders}' where order_id = 'o2'").fetchone() == (4.0,)
    third = _publish(warehouse, publish_dir, "run-3", keep=3, at=T0 + timedelta(days=2))
    assert inode(third, "kpi_weekly") == inode(second, "kpi_weekly")
    assert inode(third, "fct_orders") == inode(second, "fct_orders")  # unchanged since run 2
    assert (third.path / third.manifest["marts"]["kpi_weekly"]["parquet"]).stat().st_nlink == 2


def test_the_fingerprint_sees_a_swapped_value_between_rows(tmp_path):
    """Same rows count, same multiset of column values, different rows: a new fingerprint."""
    warehouse, publish_dir = _warehouse(tmp_path / "voc.duckdb"), tmp_path / "published"
    first = _publish(warehouse, publish_dir, "run-1")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.kpi_weekly set n = 1 - n")
    second = _publish(warehouse, publish_dir, "run-2", at=T0 + timedelta(days=1))
    assert second.manifest["marts"]["kpi_weekly"]["fingerprint"] != first.manifest["marts"]["kpi_weekly"]["fingerprint"]
    kpi = second.path / second.manifest["marts"]["kpi_weekly"]["parquet"]
    assert kpi.stat().st_nlink == 1
    with duckdb.connect() as con:
        assert con.execute(f"select n from '{kpi}' where tag = 'a'").fetchone() == (1,)


def test_a_night_building_on_the_previous_database_file_publishes_what_a_fresh_build_does(tmp_path):
    """The second publication starts from a copy of the first's DuckDB file (kpi_weekly did not
    change): its tables, comments and _publication row are those of a publication built afresh."""
    warehouse, publish_dir = _warehouse(tmp_path / "voc.duckdb"), tmp_path / "published"
    _publish(warehouse, publish_dir, "run-1")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.fct_orders values ('o9', date '2026-12-09', 'S0', 9.5, 'new')")
    manifest = _manifest()
    manifest["nodes"]["model.voc.kpi_weekly"]["description"] = "Weekly counts, described now."
    manifest["nodes"]["model.voc.kpi_weekly"]["columns"]["n"]["description"] = ""
    night = _publish(warehouse, publish_dir, "run-2", at=T0 + timedelta(days=1), manifest=manifest)
    fresh = _publish(warehouse, tmp_path / "fresh", "run-2", at=T0 + timedelta(days=1), manifest=manifest)
    assert night.manifest["marts"] == fresh.manifest["marts"]

    def contents(publication):
        with duckdb.connect(str(publication.path / DATABASE_NAME), read_only=True) as con:
            tables = con.execute("select table_name, comment from duckdb_tables() order by 1").fetchall()
            columns = con.execute("select table_name, column_name, data_type, comment from duckdb_columns() "
                                  "where schema_name = 'main' order by 1, 2").fetchall()
            data = {table: sorted(con.execute(f'select * from "{table}"').fetchall(), key=repr)
                    for table, _ in tables}
        return tables, columns, data

    assert contents(night) == contents(fresh)
    assert dict(contents(night)[0])["kpi_weekly"] == "Weekly counts, described now."
    kpi = night.path / night.manifest["marts"]["kpi_weekly"]["parquet"]
    assert kpi.stat().st_nlink == 2  # kept from run 1, not written again
