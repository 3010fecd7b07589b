"""The Arrow load gives the raw layer the former dict load gave: every table, row and value.

The demo landing data goes through both paths into two warehouses (``columnar=False`` is the
former path through dlt's row-by-row normalizer, kept in ``loaders.sources`` only for this
test); then a demo increment (new and changed records, bad lines) goes through both again, so
merges, newest-version filters and the file state are compared too. A third warehouse loaded
first by the former path takes the increment through the new one, as a deployed warehouse will. Per raw table: the columns
with their types and nullability, and the rows as a multiset, leaving out what differs by
nature (dlt's load ids and row ids, the load's own times). A child row is compared with its
parent's key in place of its parent's row id.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import duckdb
import pytest
from record_guard import TEST_GUARD

from loaders.contracts import RECORD_SPECS
from loaders.families import FAMILIES
from loaders.files.columnar import arrow_layout
from loaders.pipeline import load_all
from loaders.progress import LoadProgress

pytestmark = pytest.mark.dlt

ROWS = 1500
SEED = 5
UNCOMPARABLE = {"_dlt_load_id", "_dlt_id", "_dlt_parent_id", "_dlt_root_id", "loaded_at", "quarantined_at"}
"""Values that differ between any two loads: dlt's ids, and when the load ran."""


def _tables(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, list[tuple]]:
    rows = con.execute(
        "select table_name, column_name, data_type, is_nullable from information_schema.columns"
        " where table_catalog = ? and table_schema = 'raw' and table_name not like '\\_dlt\\_%' escape '\\'"
        " order by table_name, column_name",
        [db],
    ).fetchall()
    tables: dict[str, list[tuple]] = {}
    for table, column, data_type, nullable in rows:
        tables.setdefault(table, []).append((column, data_type, nullable))
    return tables


def _comparable_select(db: str, table: str, columns: list[str]) -> str:
    kept = ", ".join(f't."{c}"' for c in columns if c not in UNCOMPARABLE)
    parent, _, _ = table.partition("__")
    if parent != table and parent in RECORD_SPECS:
        keys = ", ".join(f'p."{k}" as "_parent_{k}"' for k in RECORD_SPECS[parent].primary_key)
        return (
            f"select {kept}, {keys} from {db}.raw.\"{table}\" t"
            f' join {db}.raw."{parent}" p on t._dlt_parent_id = p._dlt_id'
        )
    return f'select {kept} from {db}.raw."{table}" t'


def _differences(old: Path, new: Path) -> list[str]:
    con = duckdb.connect()
    con.execute(f"attach '{old}' as old (read_only)")
    con.execute(f"attach '{new}' as new (read_only)")
    old_tables, new_tables = _tables(con, "old"), _tables(con, "new")
    problems = []
    if set(old_tables) != set(new_tables):
        problems.append(f"tables: {sorted(set(old_tables) ^ set(new_tables))}")
    for table in sorted(set(old_tables) & set(new_tables)):
        if old_tables[table] != new_tables[table]:
            problems.append(f"{table} columns: {old_tables[table]} != {new_tables[table]}")
            continue
        columns = [column for column, _, _ in old_tables[table]]
        old_select, new_select = _comparable_select("old", table, columns), _comparable_select("new", table, columns)
        count_old = con.execute(f"select count(*) from ({old_select})").fetchone()[0]
        count_new = con.execute(f"select count(*) from ({new_select})").fetchone()[0]
        only_old = con.execute(f"select count(*) from ({old_select} except all {new_select})").fetchone()[0]
        only_new = con.execute(f"select count(*) from ({new_select} except all {old_select})").fetchone()[0]
        if (count_old, only_old, only_new) != (count_new, 0, 0):
            problems.append(f"{table}: {count_old} vs {count_new} rows, {only_old} only old, {only_new} only new")
    # the file state: every file loaded once, by the same hash
    for family in FAMILIES:
        files = f"select file, sha256, records_read, records_loaded, records_quarantined from {{}}.raw.{family}_files"
        if con.execute(f"select count(*) from ({files.format('old')} except all {files.format('new')})").fetchone()[0]:
            problems.append(f"{family}_files differ")
    con.close()
    return problems


@pytest.fixture(scope="module")
def two_warehouses(tmp_path_factory):
    from devtools.demo.api import add_increment, generate

    root = tmp_path_factory.mktemp("arrow_load")
    landing = root / "landing"
    generate(landing, rows=ROWS, seed=SEED)
    old, new = root / "old" / "voc.duckdb", root / "new" / "voc.duckdb"
    upgraded = root / "upgraded" / "voc.duckdb"  # loaded by the former path, then by the new one
    load_all(landing, old, TEST_GUARD, columnar=False)
    load_all(landing, new, TEST_GUARD)
    load_all(landing, upgraded, TEST_GUARD, columnar=False)
    first = _differences(old, new)
    add_increment(landing, share=0.05, seed=SEED)
    load_all(landing, old, TEST_GUARD, columnar=False)
    load_all(landing, new, TEST_GUARD)
    load_all(landing, upgraded, TEST_GUARD)
    return {
        "first": first,
        "increment": _differences(old, new),
        "upgraded": _differences(old, upgraded),
        "old": old,
        "new": new,
    }


def test_first_load_gives_the_same_raw_tables(two_warehouses):
    assert two_warehouses["first"] == []


def test_increment_gives_the_same_raw_tables(two_warehouses):
    assert two_warehouses["increment"] == []


def test_a_warehouse_of_the_former_path_takes_the_increment_alike(two_warehouses):
    assert two_warehouses["upgraded"] == []


def test_the_comparison_sees_a_changed_value(two_warehouses, tmp_path):
    """The comparison is not blind: one changed rating and one dropped quarantine row show."""
    changed = tmp_path / "changed.duckdb"
    shutil.copy(two_warehouses["new"], changed)
    con = duckdb.connect(str(changed))
    con.execute("update raw.reviews set rating = 6 - rating where review_id = (select min(review_id) from raw.reviews)")
    con.execute("delete from raw.surveys_quarantine where line = (select max(line) from raw.surveys_quarantine)")
    con.close()
    problems = _differences(two_warehouses["old"], changed)
    assert any(p.startswith("reviews:") for p in problems), problems
    assert any(p.startswith("surveys_quarantine:") for p in problems), problems


def test_the_demo_data_exercises_both_item_kinds(two_warehouses):
    """In the Arrow families, records of the contract's shape and drifted ones (the demo's later
    months carry new fields) both arrived, so Arrow tables and dicts met in one table's merge;
    the families with list fields have no layout."""
    con = duckdb.connect(str(two_warehouses["new"]), read_only=True)
    for table, drifted in (("surveys", "device"), ("reviews", "video_count"), ("social", "lang")):
        assert arrow_layout(RECORD_SPECS[table]) is not None
        counts = con.execute(f"select count(*), count({drifted}) from raw.{table}").fetchone()
        assert 0 < counts[1] < counts[0], (table, counts)
    assert arrow_layout(RECORD_SPECS["tickets"]) is None and arrow_layout(RECORD_SPECS["members"]) is None
    con.close()


def test_progress_reports_rows_rate_and_time_left(caplog):
    clock = iter([0.0, 1.0, 6.0, 7.0, 12.5]).__next__
    progress = LoadProgress("reviews/reviews", total_bytes=1000, logger=logging.getLogger("t"), clock=clock)
    with caplog.at_level(logging.INFO, logger="t"):
        progress.update(100, 50)  # t=1: before the first interval, silent
        progress.update(200, 250)  # t=6: 300 rows in 6 s, 25% done
        progress.update(100, 400)  # t=7: within the interval again
        progress.file_done(500)
        progress.update(300, 250)  # t=12.5: 700 rows, 75% done
    assert caplog.messages == [
        "reviews/reviews: 300 rows read (50 rows/s), 25% of 0.0 MiB, about 18 s left",
        "reviews/reviews: 700 rows read (56 rows/s), 75% of 0.0 MiB, about 4 s left",
    ]


def test_dlt_still_refuses_arrow_items_for_a_nested_table(tmp_path):
    """Why tickets and members go as dicts (``loaders.files.columnar``): dlt 1.31 cannot take a
    child table's rows as Arrow. An item sent to a table declared with a parent (a nested table,
    what ``tickets__messages`` is to dlt) is written, but the extract then fails, because a
    nested table belongs to no resource (and dlt refuses to give one a resource). When a dlt
    upgrade makes this load pass, the list families can become Arrow too.
    """
    import dlt
    import pyarrow as pa
    from dlt.common.normalizers.json.helpers import get_nested_row_hash
    from dlt.pipeline.exceptions import PipelineStepFailed

    merge = {"disposition": "merge", "strategy": "delete-insert"}
    root_hints = dlt.mark.make_hints(
        table_name="t", primary_key=["id"], write_disposition=merge, file_format="parquet",
        columns={"id": {"data_type": "text", "nullable": False}},
        nested_hints={"m": dlt.mark.make_nested_hints(columns={"body": {"data_type": "text"}})},
    )
    child_hints = dlt.mark.make_hints(
        table_name="t__m", parent_table_name="t", primary_key=[], file_format="parquet",
        columns={"body": {"data_type": "text"}},
    )

    @dlt.resource(name="t", write_disposition=merge, file_format="parquet")
    def rows():
        load_id = dlt.current.load_package_state()["load_id"]
        root = pa.table({"id": ["a"], "_dlt_load_id": [load_id], "_dlt_id": ["r1"]})
        child = pa.table({
            "body": ["hello"], "_dlt_root_id": ["r1"], "_dlt_parent_id": ["r1"],
            "_dlt_list_idx": pa.array([0], pa.int64()), "_dlt_id": [get_nested_row_hash("r1", "t__m", 0)],
        })
        yield dlt.mark.with_hints(root, root_hints, create_table_variant=True)
        yield dlt.mark.with_hints(child, child_hints, create_table_variant=True)

    pipeline = dlt.pipeline(
        pipeline_name="nested_arrow", pipelines_dir=str(tmp_path / "pipelines"),
        destination=dlt.destinations.duckdb(str(tmp_path / "w.duckdb")), dataset_name="raw",
    )
    with pytest.raises(PipelineStepFailed) as failed:
        pipeline.run(rows())
    assert failed.value.step == "extract"
    assert isinstance(failed.value.__cause__, KeyError) and failed.value.__cause__.args == ("resource",)
