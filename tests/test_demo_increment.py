"""Tests of `add_increment` (devtools/demo/increment.py): a later day of exports the loaders accept.

The landing folder is loaded with the real dlt pipelines before and after the increment, so the
counts come from the warehouse, not from the increment's own bookkeeping.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
from record_guard import TEST_GUARD

from devtools.demo.api import add_increment, generate
from loaders.pipeline import load_all

pytestmark = pytest.mark.dlt

ROWS = 1500
FAMILIES = ("surveys", "tickets", "reviews", "social")
ID_COLUMN = {"surveys": "response_id", "tickets": "ticket_id", "reviews": "review_id", "social": "post_id"}
END_DATE = date(2026, 11, 15)
SHANGHAI = timezone(timedelta(hours=8))


def _digests(landing: Path) -> dict[str, str]:
    return {
        path.relative_to(landing).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for family in FAMILIES
        for path in (landing / family).iterdir()
    }


def _raw_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {family: con.execute(f"select count(*) from raw.{family}").fetchone()[0] for family in FAMILIES}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A generated landing loaded once, then one increment added and loaded."""
    root = tmp_path_factory.mktemp("increment")
    landing, warehouse = root / "landing", root / "warehouse" / "voc.duckdb"
    generate(landing, rows=ROWS, seed=11, end_date=END_DATE)
    load_all(landing, warehouse, TEST_GUARD)
    before_counts = _raw_counts(warehouse)
    before_files = _digests(landing)
    result = add_increment(landing, share=0.01)
    infos = load_all(landing, warehouse, TEST_GUARD)
    return {"landing": landing, "warehouse": warehouse, "before_counts": before_counts,
            "before_files": before_files, "result": result, "infos": infos}


def test_raw_tables_grow_by_exactly_the_new_records(loaded):
    after = _raw_counts(loaded["warehouse"])
    for family in FAMILIES:
        counts = loaded["result"][family]
        assert counts["new"] >= 1 and counts["changed"] >= 1, family
        assert after[family] == loaded["before_counts"][family] + counts["new"], family


def test_changed_records_now_hold_the_increment_version(loaded):
    day_start = datetime.combine(END_DATE + timedelta(days=1), datetime.min.time(), SHANGHAI)
    with duckdb.connect(str(loaded["warehouse"]), read_only=True) as con:
        for family in FAMILIES:
            counts = loaded["result"][family]
            ids = counts["changed_ids"]
            assert len(ids) == counts["changed"]
            rows = con.execute(
                f"select {ID_COLUMN[family]}, _voc_file, _voc_updated_at from raw.{family} "
                f"where {ID_COLUMN[family]} in (select unnest(?))", [ids]).fetchall()
            assert len(rows) == len(ids), family
            for record_id, file, version in rows:
                assert file in counts["files"], (family, record_id, file)
                assert version >= day_start, (family, record_id, version)


def test_existing_files_are_untouched_and_only_new_files_are_loaded(loaded):
    landing, result = loaded["landing"], loaded["result"]
    after = _digests(landing)
    for name, digest in loaded["before_files"].items():
        assert after[name] == digest, name
    new_files = sorted(set(after) - set(loaded["before_files"]))
    assert new_files == sorted(f for family in FAMILIES for f in result[family]["files"])
    assert all("_2026-11-16_p" in name for name in new_files)
    with duckdb.connect(str(loaded["warehouse"]), read_only=True) as con:
        for family in FAMILIES:
            logged = {row[0] for row in con.execute(
                f"select file from raw.{family}_files where file in (select unnest(?))", [result[family]["files"]]).fetchall()}
            assert logged == set(result[family]["files"]), family


def test_new_versions_change_what_the_source_allows(loaded):
    """Tickets move on (status or messages), reviews gain a 追评 or a reply, posts gain engagement."""
    landing, result = loaded["landing"], loaded["result"]
    with duckdb.connect(str(loaded["warehouse"]), read_only=True) as con:
        ticket_id = result["tickets"]["changed_ids"][0]
        history = con.execute("select count(*) from raw.tickets_history where ticket_id = ?", [ticket_id]).fetchone()[0]
        assert history >= 2  # the increment's version was added to the ticket's history
    gained = sum(1 for f in result["reviews"]["files"] for line in (landing / f).read_text("utf-8").splitlines()
                 if line.strip().startswith("{") and json.loads(line).get("review_id") in result["reviews"]["changed_ids"]
                 and (json.loads(line).get("append_content") or json.loads(line).get("seller_reply")))
    assert gained == result["reviews"]["changed"]


def test_a_second_increment_takes_the_next_day(tmp_path):
    landing = tmp_path / "landing"
    generate(landing, rows=300, seed=3, end_date=END_DATE)
    first = add_increment(landing, share=0.02)
    second = add_increment(landing, share=0.02)
    assert all("_2026-11-16_p" in f for family in FAMILIES for f in first[family]["files"])
    assert all("_2026-11-17_p" in f for family in FAMILIES for f in second[family]["files"])
    log = json.loads((landing / "_truth" / "increments.json").read_text("utf-8"))
    assert [entry["date"] for entry in log] == ["2026-11-16", "2026-11-17"]
