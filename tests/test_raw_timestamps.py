"""Vendor timestamps are parsed once, by the loader: raw holds UTC timestamptz, staging only selects.

The cases are the ones where the SQL parser staging used to have disagreed with the loader's:
a date-only ``registered_at`` (Shanghai midnight, not UTC midnight), an eight-digit epoch and a
``,`` decimal fraction (NULL in staging before). They go landing -> raw in file mode and in api
mode (same typed values), then through the dbt staging models. An older warehouse whose raw time
columns are text is converted in place.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from record_guard import TEST_GUARD

from loaders.pipeline import load_family
from loaders.upgrade import upgrade_text_timestamps
from orchestration.project import DBT_EXECUTABLE, voc_dbt_project

UTC = timezone.utc
MEMBERS = [
    {"member_id": "M1", "phone": "13800138000", "registered_at": "2021-02-14", "updated_at": "2025-05-30T00:00:00+08:00"},
    {"member_id": "M2", "registered_at": 99999999, "updated_at": "2025-06-01 10:23:45,5"},
]
TICKETS = [
    {"ticket_id": 7, "created_at": "99999999", "updated_at": "2025-06-01 10:23:45,25", "status": "open",
     "messages": [{"at": "2025-06-01", "author_role": "customer", "body": "到货晚了"}]},
]
# what raw and staging must hold for the cases above
REGISTERED = {"M1": datetime(2021, 2, 13, 16, 0, tzinfo=UTC), "M2": datetime(1973, 3, 3, 9, 46, 39, tzinfo=UTC)}
M2_UPDATED = datetime(2025, 6, 1, 2, 23, 45, 500000, tzinfo=UTC)
TICKET_CREATED = datetime(1973, 3, 3, 9, 46, 39, tzinfo=UTC)
TICKET_UPDATED = datetime(2025, 6, 1, 2, 23, 45, 250000, tzinfo=UTC)
MESSAGE_AT = datetime(2025, 5, 31, 16, 0, tzinfo=UTC)


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ts_landing")
    _write_jsonl(root / "members" / "m.jsonl", MEMBERS)
    _write_jsonl(root / "tickets" / "t.jsonl", TICKETS)
    return root


def _raw_values(warehouse: Path) -> dict[str, object]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        registered = dict(con.execute("select member_id, registered_at from raw.members").fetchall())
        ticket = con.execute("select created_at, updated_at from raw.tickets").fetchall()
        message = con.execute('select "at" from raw.tickets__messages').fetchall()
        types = dict(
            con.execute(
                "select table_name || '.' || column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and column_name in ('registered_at', 'created_at', 'at')"
            ).fetchall()
        )
    return {"registered": registered, "ticket": ticket, "message": message, "types": types}


@pytest.fixture(scope="module")
def file_warehouse(landing, tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("ts_file") / "voc.duckdb"
    for family in ("members", "tickets"):
        load_family(family, landing, warehouse, TEST_GUARD)
    return warehouse


def test_raw_holds_utc_timestamptz_parsed_by_the_loader(file_warehouse):
    raw = _raw_values(file_warehouse)
    assert raw["registered"] == REGISTERED
    assert raw["ticket"] == [(TICKET_CREATED, TICKET_UPDATED)]
    assert raw["message"] == [(MESSAGE_AT,)]
    assert set(raw["types"].values()) == {"TIMESTAMP WITH TIME ZONE"}


def test_api_mode_writes_the_same_typed_values(landing, file_warehouse, tmp_path):
    from devtools.fake_api import FakeVendorApi, VendorStore
    from loaders.api import ApiSourceConfig, HttpRetrySettings, load_family_from_api

    warehouse = tmp_path / "voc.duckdb"
    fast = HttpRetrySettings(timeout_seconds=2.0, max_attempts=2, backoff_seconds=0.05, max_retry_delay_seconds=1)
    with FakeVendorApi(VendorStore.from_landing(landing), token="t") as server:
        for family in ("members", "tickets"):
            load_family_from_api(ApiSourceConfig(family, server.base_url, "t", page_size=10), warehouse, landing, TEST_GUARD, fast)
    assert _raw_values(warehouse) == _raw_values(file_warehouse)


def test_staging_only_selects_the_loaders_times(file_warehouse, tmp_path, dbt_manifest):
    selected = ["stg_members__members", "stg_tickets__tickets", "stg_tickets__messages"]
    # a subprocess, so that dbt's DuckDB connection is closed before the test reads the file
    result = subprocess.run(
        [DBT_EXECUTABLE, "run", "--quiet", "--select", *(f"+{model}" for model in selected),
         "--project-dir", str(voc_dbt_project.project_dir), "--profiles-dir", str(voc_dbt_project.profiles_dir),
         "--target-path", str(tmp_path / "target")],
        env={**os.environ, "VOC_DUCKDB_PATH": str(file_warehouse)}, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    with duckdb.connect(str(file_warehouse), read_only=True) as con:
        members = dict(con.execute("select member_id, registered_at from staging.stg_members__members").fetchall())
        m2_updated = con.execute("select updated_at from staging.stg_members__members where member_id = 'M2'").fetchall()
        tickets = con.execute("select created_at, updated_at from staging.stg_tickets__tickets").fetchall()
        messages = con.execute("select sent_at from staging.stg_tickets__messages").fetchall()
    assert members == REGISTERED  # 2021-02-14 is Shanghai midnight, as in the loader
    assert m2_updated == [(M2_UPDATED,)]
    assert tickets == [(TICKET_CREATED, TICKET_UPDATED)]  # eight-digit epoch, "," fraction: not NULL
    assert messages == [(MESSAGE_AT,)]


def test_text_time_columns_of_an_older_warehouse_are_converted_in_place(tmp_path):
    warehouse = tmp_path / "old.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.members (member_id varchar, name varchar, registered_at varchar, "
            "updated_at varchar, _voc_updated_at timestamptz)"
        )
        con.execute(
            "insert into raw.members values ('M1', '2021-02-14', '2021-02-14', '1748871000', '2025-06-02 13:30:00+00'),"
            " ('M2', null, null, '2025-06-01 10:23:45,5', '2025-06-01 02:23:45.5+00')"
        )
    assert upgrade_text_timestamps(warehouse, "members") == ["members.registered_at", "members.updated_at"]
    assert upgrade_text_timestamps(warehouse, "members") == []  # already current
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select member_id, name, registered_at, updated_at from raw.members order by 1").fetchall()
    assert rows == [
        ("M1", "2021-02-14", datetime(2021, 2, 13, 16, 0, tzinfo=UTC), datetime(2025, 6, 2, 13, 30, tzinfo=UTC)),
        ("M2", None, None, M2_UPDATED),
    ]
