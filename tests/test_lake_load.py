"""The lake gets the raw records the warehouse gets: every table, column and value (issue 19).

One demo landing folder goes into a DuckDB warehouse (``load_all``) and into a Parquet lake
(``load_all(..., lake_dir=...)``, dlt's filesystem destination plus ``loaders.lake_compaction``),
then through the same later days in both: a demo increment (new records and new versions), then
hand-made edits the merge must get right (a stale version in a later file, one key twice in a
file, a landing file rewritten with a bad line, a link leaving the landing folder that appears
and goes again). After each step every raw table is compared: the same tables, the same columns
with the same types, the same rows as a multiset, leaving out what differs between any two loads
(dlt's load and row ids, the load's own times); a child row is compared with its parent's key.
The lake is read with DuckDB over its Parquet files; one ``spark`` test reads it with Spark.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from record_guard import TEST_GUARD

from loaders.contracts import RECORD_SPECS
from loaders.families import FAMILIES
from loaders.lake import lake_table_dir, lake_table_files, lake_tables, read_lake_table, remove_pipelines_dir
from loaders.lake_compaction import COMPACTED_PREFIX, WORK_DIR, LakeStore, recover
from loaders.pipeline import load_all

pytestmark = pytest.mark.dlt

ROWS = 800
SEED = 5
UNCOMPARABLE = {"_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id", "loaded_at", "quarantined_at"}
"""Values that differ between any two loads: dlt's ids, and when the load ran."""


def _attach_lake(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """The lake's tables as tables of the schema ``lake`` (read from their visible Parquet files)."""
    con.execute("create schema if not exists lake")
    for table in lake_tables(lake):
        files = lake_table_files(lake, table)
        con.execute(f'create or replace table lake."{table}" as select * from read_parquet(?)', [files])


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> dict[str, list[tuple]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_catalog = ? and table_schema = ? and table_name not like '\\_dlt\\_%' escape '\\'"
        " order by table_name, column_name",
        [catalog, schema],
    ).fetchall()
    tables: dict[str, list[tuple]] = {}
    for table, column, data_type in rows:
        tables.setdefault(table, []).append((column, data_type))
    return tables


def _comparable_select(where: str, table: str, columns: list[str]) -> str:
    kept = ", ".join(f't."{c}"' for c in columns if c not in UNCOMPARABLE)
    parent, _, _ = table.partition("__")
    if parent != table and parent in RECORD_SPECS:
        keys = ", ".join(f'p."{k}" as "_parent_{k}"' for k in RECORD_SPECS[parent].primary_key)
        return f'select {kept}, {keys} from {where}."{table}" t join {where}."{parent}" p on t._dlt_parent_id = p._dlt_id'
    return f'select {kept} from {where}."{table}" t'


def differences(warehouse: Path, lake: Path) -> list[str]:
    """What the lake holds differently from the warehouse's raw schema (empty: nothing)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{warehouse}' as wh (read_only)")
    _attach_lake(con, lake)
    memory = con.execute("select current_database()").fetchone()[0]
    wh_tables, lake_tables_ = _columns(con, "wh", "raw"), _columns(con, memory, "lake")
    problems = []
    if set(wh_tables) != set(lake_tables_):
        problems.append(f"tables: {sorted(set(wh_tables) ^ set(lake_tables_))}")
    for table in sorted(set(wh_tables) & set(lake_tables_)):
        if wh_tables[table] != lake_tables_[table]:
            problems.append(f"{table} columns: {wh_tables[table]} != {lake_tables_[table]}")
            continue
        columns = [column for column, _ in wh_tables[table]]
        wh_select, lake_select = _comparable_select("wh.raw", table, columns), _comparable_select("lake", table, columns)
        count_wh = con.execute(f"select count(*) from ({wh_select})").fetchone()[0]
        count_lake = con.execute(f"select count(*) from ({lake_select})").fetchone()[0]
        only_wh = con.execute(f"select count(*) from ({wh_select} except all {lake_select})").fetchone()[0]
        only_lake = con.execute(f"select count(*) from ({lake_select} except all {wh_select})").fetchone()[0]
        if (count_wh, only_wh, only_lake) != (count_lake, 0, 0):
            problems.append(f"{table}: {count_wh} vs {count_lake} rows, {only_wh} only in DuckDB, {only_lake} only in the lake")
    con.close()
    return problems


def _first_line(path: Path) -> dict:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return json.loads(handle.readline())


def _edit_landing(landing: Path, outside: Path) -> None:
    """Edits the merge has to get right, beyond the demo increment."""
    reviews = sorted((landing / "reviews").glob("reviews_*.jsonl*"))
    old = _first_line(reviews[0])
    stale = {**old, "modified_at": "2001-01-01T00:00:00Z", "rating": 6 - int(old["rating"] or 3)}
    twice = {**old, "review_id": "TM-LAKE-TWICE", "modified_at": "2026-11-20T00:00:00Z", "rating": 1}
    newer = {**twice, "modified_at": "2026-11-21T00:00:00Z", "rating": 5}
    with open(landing / "reviews" / "reviews_zz_edits.jsonl", "w", encoding="utf-8") as handle:
        for record in (newer, stale, twice):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.write("{not json\n")
    # a file rewritten: re-read whole, its old quarantine rows replaced
    rewritten = sorted(p for p in (landing / "surveys").glob("*.jsonl"))[0]
    with open(rewritten, "a", encoding="utf-8") as handle:
        handle.write('{"response_id": "S-LAKE-BAD", "nps": "ten"}\n')
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.jsonl").write_text("{}\n", encoding="utf-8")
    os.symlink(outside / "secret.jsonl", landing / "tickets" / "tickets_zz_link.jsonl")


@pytest.fixture(scope="module")
def loads(tmp_path_factory):
    from devtools.demo.api import add_increment, generate

    root = tmp_path_factory.mktemp("lake_load")
    landing, lake = root / "landing", root / "lake"
    warehouse, lock_only = root / "wh" / "voc.duckdb", root / "lake-run" / "voc.duckdb"
    generate(landing, rows=ROWS, seed=SEED)

    def both() -> list[str]:
        load_all(landing, warehouse, TEST_GUARD)
        load_all(landing, lock_only, TEST_GUARD, lake_dir=lake)
        return differences(warehouse, lake)

    steps = {"first": both()}
    add_increment(landing, share=0.05, seed=SEED)
    steps["increment"] = both()
    _edit_landing(landing, root / "outside")
    steps["edits"] = both()
    (landing / "tickets" / "tickets_zz_link.jsonl").unlink()
    steps["link gone"] = both()
    files_before = {table: lake_table_files(lake, table) for table in lake_tables(lake)}
    remove_pipelines_dir(lake)  # dlt's working dirs gone: the state comes back from the lake
    steps["state restored"] = both()
    files_after = {table: lake_table_files(lake, table) for table in lake_tables(lake)}
    return {"steps": steps, "lake": lake, "warehouse": warehouse, "root": root,
            "files_before": files_before, "files_after": files_after}


@pytest.mark.parametrize("step", ["first", "increment", "edits", "link gone", "state restored"])
def test_the_lake_holds_the_warehouses_raw_records(loads, step):
    assert loads["steps"][step] == []


def test_the_edits_reached_the_merge(loads):
    """The hand-made edits did what they are for, in the lake: the stale version lost, the newer
    of two versions in one file won, the rewritten file's bad line and the link's row came and
    the link's row went."""
    con = duckdb.connect()
    _attach_lake(con, loads["lake"])
    assert con.execute("select rating from lake.reviews where review_id = 'TM-LAKE-TWICE'").fetchall() == [(5,)]
    assert con.execute("select count(*) from lake.reviews where _voc_updated_at < '2002-01-01'").fetchone()[0] == 0
    reasons = con.execute("select count(*) from lake.surveys_quarantine where record_id = 'S-LAKE-BAD'").fetchone()[0]
    assert reasons == 1
    links = con.execute("select count(*) from lake.tickets_files where refused_reason is not null").fetchone()[0]
    assert links == 0
    con.close()


def test_every_table_is_one_compacted_file_and_nothing_else(loads):
    lake = loads["lake"]
    for table in lake_tables(lake):
        names = [Path(f).name for f in lake_table_files(lake, table)]
        assert len(names) == 1 and names[0].startswith(COMPACTED_PREFIX), (table, names)
        folder = Path(lake_table_dir(lake, table))
        assert sorted(p.name for p in folder.iterdir()) == names, table
    assert not any((lake / "raw" / WORK_DIR).glob("*")) if (lake / "raw" / WORK_DIR).exists() else True


def test_the_file_state_lives_in_the_lake(loads):
    """With dlt's working directories deleted, a load restores the state from the lake and reads
    no file again: no table was rewritten."""
    assert loads["files_after"] == loads["files_before"]
    assert (loads["lake"] / "raw" / "_dlt_pipeline_state").is_dir()


def test_child_tables_exist_and_link_to_their_roots(loads):
    con = duckdb.connect()
    _attach_lake(con, loads["lake"])
    for child, parent in (("tickets__messages", "tickets"), ("members__bound_accounts", "members")):
        total, orphans = con.execute(
            f'select count(*), count(*) filter (where p._dlt_id is null) from lake."{child}" c'
            f' left join lake."{parent}" p on c._dlt_root_id = p._dlt_id'
        ).fetchone()
        assert total > 0 and orphans == 0, (child, total, orphans)
    con.close()


def test_the_comparison_sees_a_changed_value(loads, tmp_path):
    """The comparison is not blind: one changed rating and one dropped quarantine row show."""
    lake = tmp_path / "lake"
    shutil.copytree(loads["lake"], lake, ignore=shutil.ignore_patterns(".dlt_pipelines"))
    for table, change in (
        ("reviews", lambda t: t.set_column(t.schema.get_field_index("rating"), "rating",
                                           pa.array([6 - (r or 3) for r in t["rating"].to_pylist()], t["rating"].type))),
        ("surveys_quarantine", lambda t: t.slice(1)),
    ):
        (path,) = lake_table_files(lake, table)
        pq.write_table(change(pq.read_table(path)), path)
    problems = differences(loads["warehouse"], lake)
    assert any(p.startswith("reviews:") for p in problems), problems
    assert any(p.startswith("surveys_quarantine:") for p in problems), problems


def _table_store(root: Path) -> tuple[LakeStore, Path]:
    import fsspec

    dataset = root / "raw"
    (dataset / "t").mkdir(parents=True)
    pq.write_table(pa.table({"k": ["old"]}), dataset / "t" / f"{COMPACTED_PREFIX}1.0-aaaa.parquet")
    return LakeStore(fsspec.filesystem("file"), str(dataset)), dataset


def test_an_interrupted_compaction_is_rolled_forward_once_committed(tmp_path):
    store, dataset = _table_store(tmp_path)
    old = dataset / "t" / f"{COMPACTED_PREFIX}1.0-aaaa.parquet"
    temp = dataset / WORK_DIR / "t.bbbb.parquet"
    temp.parent.mkdir()
    pq.write_table(pa.table({"k": ["new"]}), temp)
    final = dataset / "t" / f"{COMPACTED_PREFIX}2.0-bbbb.parquet"
    journal = {"moves": [[str(temp), str(final)]], "deletes": [str(old)]}
    (dataset / WORK_DIR / "t.bbbb.json").write_text(json.dumps(journal), encoding="utf-8")
    recover(store)
    assert store.parquet_files("t") == [str(final)]
    assert pq.read_table(final)["k"].to_pylist() == ["new"]
    assert not any((dataset / WORK_DIR).iterdir())


def test_an_interrupted_compaction_without_its_journal_leaves_the_table(tmp_path):
    store, dataset = _table_store(tmp_path)
    temp = dataset / WORK_DIR / "t.cccc.parquet"
    temp.parent.mkdir()
    pq.write_table(pa.table({"k": ["half"]}), temp)
    (dataset / WORK_DIR / "t.cccc.json.tmp").write_text("{", encoding="utf-8")
    recover(store)
    assert [Path(p).name for p in store.parquet_files("t")] == [f"{COMPACTED_PREFIX}1.0-aaaa.parquet"]
    assert not any((dataset / WORK_DIR).iterdir())


# --- Spark reads the lake ---------------------------------------------------------------------------

_SPARK_TYPES = {
    "VARCHAR": "StringType()",
    "BIGINT": "LongType()",
    "BOOLEAN": "BooleanType()",
    "TIMESTAMP WITH TIME ZONE": "TimestampType()",
}


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed (the spark extra)")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("voc-test-lake")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.mark.spark
def test_spark_reads_the_lake_tables_with_the_expected_schema(loads, spark):
    lake = loads["lake"]
    con = duckdb.connect()
    con.execute(f"attach '{loads['warehouse']}' as wh (read_only)")
    expected = _columns(con, "wh", "raw")
    for table in ("tickets", "tickets__messages", "members__bound_accounts", "reviews_quarantine"):
        frame = spark.read.parquet(lake_table_dir(lake, table))
        got = sorted((field.name, repr(field.dataType)) for field in frame.schema.fields)
        assert got == [(name, _SPARK_TYPES[data_type]) for name, data_type in expected[table]], table
        rows = con.execute(f'select count(*) from wh.raw."{table}"').fetchone()[0]
        assert frame.count() == rows == read_lake_table(lake, table).num_rows, table
    con.close()


def test_every_family_was_loaded(loads):
    tables = set(lake_tables(loads["lake"]))
    assert {f"{family}_files" for family in FAMILIES} <= tables


# --- the Dagster load asset on the Spark engine ------------------------------------------------------


@pytest.mark.dagster
def test_the_dagster_load_writes_the_lake_with_its_api_cursor_when_the_engine_is_spark(tmp_path):
    """With ``VOC_ENGINE=spark`` the load assets write the lake, not the warehouse: a file-mode
    family and an api-mode one, whose cursor is kept in the lake (a second run, even without
    dlt's working directories, asks only for what changed since)."""
    import dataclasses

    from orchestration.settings import VocSettings

    if "engine" not in {field.name for field in dataclasses.fields(VocSettings)}:
        pytest.skip("VOC_ENGINE comes with the engine switch in orchestration/settings.py")
    import dagster as dg
    from dagster_dlt import DagsterDltResource

    from devtools.demo.api import generate
    from devtools.fake_api import FakeVendorApi, VendorStore
    from orchestration.assets.ingestion import ingestion_assets
    from orchestration.resources import VocWarehouse

    landing, lake, warehouse = tmp_path / "landing", tmp_path / "lake", tmp_path / "wh" / "voc.duckdb"
    generate(landing, rows=150, seed=3)
    assets = [a for a in ingestion_assets if a.node_def.name in ("load_tickets", "load_reviews")]
    with FakeVendorApi(VendorStore.from_landing(landing), token="tok") as server, dg.instance_for_test() as instance:
        settings = VocSettings.from_env({
            "VOC_LANDING_DIR": str(landing), "VOC_DUCKDB_PATH": str(warehouse), "VOC_HASH_SALT": "lake-test-key",
            "VOC_ENGINE": "spark", "VOC_LAKE_DIR": str(lake), **server.env(["reviews"]),
        })
        resources = {"dlt": DagsterDltResource(), "warehouse": VocWarehouse.from_settings(settings), "settings": settings}
        first = dg.materialize(assets, resources=resources, instance=instance, raise_on_error=False)
        assert first.success
        served_first = len(server.served_ids("reviews"))
        remove_pipelines_dir(lake)
        again = dg.materialize(assets, resources=resources, instance=instance, raise_on_error=False)
        assert again.success
        served_again = len(server.served_ids("reviews")) - served_first
        logs = "\n".join(e.message or "" for e in instance.all_logs(first.run_id))
    assert not warehouse.exists()
    assert "tok\n" not in logs and f"lake {lake.resolve()}" in logs
    assert served_first > 0 and served_again < served_first / 5, (served_first, served_again)
    reviews_files = read_lake_table(lake, "reviews_files").to_pylist()
    assert sum(row["records_read"] for row in reviews_files if row["file"].startswith("api:reviews?")) == served_first + served_again
    counts = {
        e.asset_key.path[-1]: e.materialization.metadata["dagster/row_count"].value
        for e in first.get_asset_materialization_events()
        if "dagster/row_count" in e.materialization.metadata
    }
    assert counts["tickets"] == read_lake_table(lake, "tickets").num_rows > 0
    tickets_meta = next(e.materialization.metadata for e in first.get_asset_materialization_events()
                        if e.asset_key.path[-1] == "tickets")
    assert tickets_meta["rows_loaded_this_run"].value == tickets_meta["new_rows_this_run"].value == counts["tickets"]
    assert tickets_meta["quarantined_rows_total"].value == read_lake_table(lake, "tickets_quarantine").num_rows > 0
    assert "[masked]" in tickets_meta["preview"].value
    assert read_lake_table(lake, "tickets__messages").num_rows > 0


def _synthetic_store(tmp_path: Path) -> LakeStore:
    import fsspec

    (tmp_path / "raw" / "_dlt_loads").mkdir(parents=True)
    return LakeStore(fsspec.filesystem("file"), str(tmp_path / "raw"))


def _commit(store: LakeStore, load_id: str) -> None:
    Path(store.path("_dlt_loads", f"s__{load_id}.jsonl")).write_text("{}", encoding="utf-8")


def _write_load(store: LakeStore, table: str, load_id: str, rows: list[dict], schema: pa.Schema) -> None:
    Path(store.path(table)).mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), store.path(table, f"{load_id}.abc{len(rows)}.parquet"))


def test_compaction_applies_committed_loads_only_and_drops_dead_ones(tmp_path):
    """Rows of a committed load merge (newest version wins, a stale one loses, a hard delete
    deletes); a load dlt still holds pending is left for later; one nobody holds is removed."""
    from loaders.lake_compaction import TableRule, compact_chain

    store = _synthetic_store(tmp_path)
    schema = pa.schema([("id", pa.string()), ("v", pa.int64()), ("gone", pa.bool_()), ("_dlt_id", pa.string())])
    rule = TableRule("t", "merge", primary_key=("id",), hard_delete="gone", dedup_sort=("v", "desc"),
                     source_filter='NOT EXISTS (SELECT 1 FROM (SELECT id AS _k, v AS _t FROM "raw"."t") AS n'
                                   ' WHERE n._k = "id" AND n._t > "v")')
    _write_load(store, "t", "1.0", [{"id": "a", "v": 2, "_dlt_id": "1"}, {"id": "b", "v": 1, "_dlt_id": "2"},
                                    {"id": "a", "v": 1, "_dlt_id": "3"}], schema)
    _write_load(store, "t", "2.0", [{"id": "a", "v": 1, "_dlt_id": "4"}, {"id": "b", "v": 1, "gone": True, "_dlt_id": "5"},
                                    {"id": "c", "v": 7, "_dlt_id": "6"}], schema)
    _write_load(store, "t", "3.0", [{"id": "d", "v": 1, "_dlt_id": "7"}], schema)  # pending in dlt
    _write_load(store, "t", "4.0", [{"id": "e", "v": 1, "_dlt_id": "8"}], schema)  # nobody's
    _commit(store, "1.0")
    _commit(store, "2.0")
    assert compact_chain(store, [rule], {"t": schema}, "raw", frozenset({"3.0"})) == {"t": 2}
    names = sorted(Path(p).name for p in store.parquet_files("t"))
    assert names[0].startswith("3.0.") and names[1].startswith(f"{COMPACTED_PREFIX}2.0-") and len(names) == 2
    (compacted,) = [p for p in store.parquet_files("t") if Path(p).name.startswith(COMPACTED_PREFIX)]
    assert sorted((r["id"], r["v"], r["_dlt_id"]) for r in pq.read_table(compacted).to_pylist()) == [("a", 2, "1"), ("c", 7, "6")]
    _commit(store, "3.0")
    assert compact_chain(store, [rule], {"t": schema}, "raw") == {"t": 3}
    assert compact_chain(store, [rule], {"t": schema}, "raw") is None  # nothing new: untouched
