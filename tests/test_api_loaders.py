"""api mode against the fake vendor server: same raw tables as file mode, incremental, faults.

One small generated landing folder is loaded once in file mode (the reference warehouse); every
test serves the same folder through ``devtools.fake_api`` and loads it with the api sources.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest
from record_guard import TEST_GUARD, TEST_KEY

from devtools.demo.api import generate
from devtools.fake_api import FakeVendorApi, Fault, VendorStore
from loaders.api import ApiSourceConfig, HttpRetrySettings, load_family_from_api, source_for_family
from loaders.api.config import API_FAMILIES
from loaders.pipeline import load_family, make_pipeline, pipelines_dir_for
from orchestration.settings import api_config_from_env

pytestmark = pytest.mark.dlt

ROWS = 300
SEED = 11
TOKEN = "test-token-7f3a9c-do-not-log"
FAST_RETRIES = HttpRetrySettings(timeout_seconds=1.0, max_attempts=4, backoff_seconds=0.05, max_retry_delay_seconds=5)
PAGE_SIZES = {"surveys": 20, "tickets": 30, "reviews": 25, "social": 25, "members": 20}
# Columns that say where a version came from (a file line or an API page) or which load wrote it
PROVENANCE = {"_voc_file", "_voc_line", "_dlt_load_id", "_dlt_id", "_dlt_root_id", "_dlt_parent_id"}
RAW_TABLES = {
    "surveys": ["surveys"],
    "tickets": ["tickets", "tickets_history"],
    "reviews": ["reviews"],
    "social": ["social"],
    "members": ["members"],
}
CHILD_TABLES = {"tickets__messages": ("tickets", "ticket_id"), "members__bound_accounts": ("members", "member_id")}
QUARANTINE_REASON_IN_API = {"invalid_json": "not_an_object", "malformed_csv_row": "not_an_object"}


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("api_landing")
    generate(path, rows=ROWS, seed=SEED)
    return path


@pytest.fixture(scope="module")
def file_warehouse(landing, tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("file_wh") / "voc.duckdb"
    for family in API_FAMILIES:
        load_family(family, landing, warehouse, TEST_GUARD)
    return warehouse


def _load_api(server: FakeVendorApi, warehouse: Path, landing: Path, families=API_FAMILIES, token=TOKEN):
    for family in families:
        config = ApiSourceConfig(family, server.base_url, token, page_size=PAGE_SIZES[family])
        load_family_from_api(config, warehouse, landing, TEST_GUARD, FAST_RETRIES)


def _columns(con, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()
    return [name for (name,) in rows if name not in PROVENANCE]


def _table_rows(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = ", ".join(f'"{c}"' for c in _columns(con, table))
        return con.execute(f"select {columns} from raw.{table} order by all").fetchall()


def _child_rows(warehouse: Path, child: str) -> list[tuple]:
    parent, key = CHILD_TABLES[child]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = ", ".join(f'c."{c}"' for c in _columns(con, child))
        return con.execute(
            f'select p."{key}", p._voc_updated_at, {columns} from raw.{child} c '
            f"join raw.{parent} p on p._dlt_id = c._dlt_root_id order by all"
        ).fetchall()


def _quarantine(warehouse: Path, family: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(f"select record_id, reason from raw.{family}_quarantine").fetchall()
    return sorted(((rid or "", QUARANTINE_REASON_IN_API.get(reason, reason)) for rid, reason in rows))


def _page_log_totals(warehouse: Path, family: str) -> tuple[int, int, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return tuple(
            con.execute(
                f"select sum(records_read), sum(records_loaded), sum(records_quarantined) from raw.{family}_files"
            ).fetchall()[0]
        )


def _column_types(warehouse: Path, table: str) -> dict[str, str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ?",
                [table],
            ).fetchall()
        )


def _assert_same_raw(expected: Path, actual: Path, extra_quarantine: dict[str, int] | None = None) -> None:
    for family, tables in RAW_TABLES.items():
        for table in tables:
            # same columns with the same types (vendor times are timestamptz in both modes)
            assert _column_types(actual, table) == _column_types(expected, table), table
            assert _table_rows(actual, table) == _table_rows(expected, table), table
        quarantined = _quarantine(actual, family)
        assert len(quarantined) == len(_quarantine(expected, family)) + (extra_quarantine or {}).get(family, 0)
        if not extra_quarantine:
            assert quarantined == _quarantine(expected, family), family
    for child in CHILD_TABLES:
        assert _child_rows(actual, child) == _child_rows(expected, child), child


@pytest.fixture(scope="module")
def clean_api_load(landing, file_warehouse, tmp_path_factory):
    """A complete api-mode load of the landing data, with its server (kept running)."""
    warehouse = tmp_path_factory.mktemp("api_wh") / "voc.duckdb"
    server = FakeVendorApi(VendorStore.from_landing(landing), token=TOKEN, page_sizes=PAGE_SIZES).start()
    _load_api(server, warehouse, landing)
    yield server, warehouse
    server.stop()


def test_full_api_load_equals_file_mode_load(clean_api_load, file_warehouse):
    _server, warehouse = clean_api_load
    _assert_same_raw(file_warehouse, warehouse)


def test_every_served_record_is_loaded_or_quarantined(clean_api_load):
    server, warehouse = clean_api_load
    for family in API_FAMILIES:
        served = len(server.served_ids(family))
        read, loaded, quarantined = _page_log_totals(warehouse, family)
        assert served == read == loaded + quarantined, family
        assert served > PAGE_SIZES[family], f"{family}: the test data must span several pages"


def test_quarantined_api_records_name_their_page(clean_api_load):
    _server, warehouse = clean_api_load
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = con.execute("select distinct file from raw.surveys_quarantine").fetchall()
    assert files and all(f.startswith("api:surveys?") and "page=" in f for (f,) in files)


def test_a_second_run_without_changes_fetches_only_the_cursor_boundary(clean_api_load, landing):
    server, warehouse = clean_api_load
    before = {family: len(server.served_ids(family)) for family in API_FAMILIES}
    _load_api(server, warehouse, landing)
    refetched = {family: len(server.served_ids(family)) - before[family] for family in API_FAMILIES}
    assert refetched["tickets"] == 0  # the export cursor is exclusive
    assert refetched["social"] <= PAGE_SIZES["social"]  # the feed's last page comes again
    for family in ("surveys", "reviews", "members"):
        assert refetched[family] < PAGE_SIZES[family], family  # records at the newest version time


def _fresh_api_load(landing, tmp_path, **server_options):
    warehouse = tmp_path / "voc.duckdb"
    server = FakeVendorApi(VendorStore.from_landing(landing), token=TOKEN, page_sizes=PAGE_SIZES, **server_options)
    return server, warehouse


def _at_or_after_cursor(server: FakeVendorApi, warehouse: Path, family: str) -> set[str]:
    """Ids the vendor serves for the saved cursor: the newest loaded version time (inclusive)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(f"select max(_voc_updated_at) from raw.{family}").fetchall()[0][0]
    return {e.record_id for e in server.store.entries(family) if e.version is not None and e.version >= cursor}


def test_incremental_run_fetches_only_changed_records_even_from_a_fresh_run_directory(landing, tmp_path):
    server, warehouse = _fresh_api_load(landing, tmp_path)
    with server:
        _load_api(server, warehouse, landing)
        boundary = {family: _at_or_after_cursor(server, warehouse, family) for family in ("surveys", "reviews", "members")}
        social_last_page = set(server.served(family="social")[-1].record_ids)
        changed_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        updated = {family: set(server.store.update_records(family, 4, changed_at)) for family in API_FAMILIES}
        # the run directory is gone: the cursors must come back from the warehouse
        shutil.rmtree(pipelines_dir_for(warehouse))
        before = {family: len(server.served_ids(family)) for family in API_FAMILIES}
        _load_api(server, warehouse, landing)
        fetched = {family: set(server.served_ids(family)[before[family]:]) for family in API_FAMILIES}
        fetched_count = {family: len(server.served_ids(family)) - before[family] for family in API_FAMILIES}

    assert fetched["tickets"] == updated["tickets"] and fetched_count["tickets"] == 4
    assert fetched["social"] == updated["social"] | social_last_page
    for family in ("surveys", "reviews", "members"):
        assert fetched[family] == updated[family] | boundary[family], family
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for family, key in (("surveys", "response_id"), ("tickets", "ticket_id"), ("reviews", "review_id"), ("social", "post_id")):
            newest = dict(con.execute(f"select {key}, _voc_updated_at from raw.{family}").fetchall())
            assert all(newest[rid] == changed_at for rid in updated[family]), family
        member_versions = con.execute(
            "select count(*) from raw.members where _voc_updated_at = ?", [changed_at]
        ).fetchall()[0][0]
    assert member_versions == 4  # members keep every version: the new ones are added


def test_a_vendor_that_caps_the_page_size_is_still_read_completely(landing, file_warehouse, tmp_path):
    # the loader asks for 100 records a page, the vendor silently sends at most 15
    capped = {family: 15 for family in API_FAMILIES}
    server = FakeVendorApi(VendorStore.from_landing(landing), page_sizes=capped)
    warehouse = tmp_path / "voc.duckdb"
    with server:
        for family in API_FAMILIES:
            load_family_from_api(ApiSourceConfig(family, server.base_url, page_size=100), warehouse, landing, TEST_GUARD, FAST_RETRIES)
    _assert_same_raw(file_warehouse, warehouse)


def test_faults_are_survived_with_exact_counts(landing, file_warehouse, tmp_path):
    faults = [
        Fault("surveys", 2, "429", times=2),
        Fault("tickets", 3, "500", times=2),
        Fault("reviews", 2, "timeout", times=1),
        Fault("social", 2, "malformed", times=1),
        Fault("members", 1, "500", times=1),
    ]
    server, warehouse = _fresh_api_load(landing, tmp_path, faults=faults, stall_seconds=1.5, rate_limit_every=17)
    with server:
        _load_api(server, warehouse, landing)
    _assert_same_raw(file_warehouse, warehouse, extra_quarantine={"social": 3})
    for family in API_FAMILIES:
        read, loaded, quarantined = _page_log_totals(warehouse, family)
        assert len(server.served_ids(family)) == read == loaded + quarantined, family
    statuses = [r.status for r in server.requests]
    assert statuses.count(500) == 3 and statuses.count(429) >= 2
    # Retry-After: 1 was honoured: the retry of a rate-limited page came at least a second later
    surveys_page_2 = [r for r in server.requests if r.family == "surveys" and r.page == 2]
    assert [r.status for r in surveys_page_2][:3] == [429, 429, 200]
    assert surveys_page_2[2].at - surveys_page_2[0].at >= 2.0


def test_a_page_that_stays_broken_fails_the_run_and_the_next_run_resumes(landing, file_warehouse, tmp_path):
    broken = Fault("tickets", 3, "500", times=None)
    server, warehouse = _fresh_api_load(landing, tmp_path, faults=[broken])
    with server:
        with pytest.raises(Exception) as failure:
            _load_api(server, warehouse, landing, families=["tickets"])
        message = str(failure.value)
        assert "tickets API: page 3" in message and "500" in message
        assert TOKEN not in message
        with duckdb.connect(str(warehouse), read_only=True) as con:
            loaded = con.execute(
                "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'tickets'"
            ).fetchall()
        assert loaded == [(0,)], "nothing of the failed run may be loaded"
        pipeline = make_pipeline("tickets", warehouse, landing)
        streams = pipeline.state.get("sources", {}).get("tickets", {}).get("resources", {}).get("tickets", {}).get("api_streams", {})
        assert not streams, "the cursor must not advance when the run fails"
        server.faults.clear()
        _load_api(server, warehouse, landing)
    _assert_same_raw(file_warehouse, warehouse)


def test_wrong_token_is_refused_and_never_shown(landing, tmp_path, caplog):
    server, warehouse = _fresh_api_load(landing, tmp_path)
    with server, pytest.raises(Exception) as failure:
        _load_api(server, warehouse, landing, families=["surveys"], token="wrong-token-secret")
    assert "surveys API: page 1" in str(failure.value) and "401" in str(failure.value)
    assert "wrong-token-secret" not in str(failure.value) and "wrong-token-secret" not in caplog.text
    assert all(not r.authorized for r in server.requests)


def test_source_choice_follows_the_environment_at_run_time(landing, tmp_path):
    down = {"VOC_SURVEYS_MODE": "api", "VOC_SURVEYS_BASE_URL": "http://127.0.0.1:9", "VOC_API_MAX_ATTEMPTS": "1"}
    api = source_for_family("surveys", landing, TEST_GUARD, api_config_from_env(down))
    files = source_for_family("surveys", landing, TEST_GUARD, api_config_from_env({}))
    assert api.name == files.name == "surveys" and list(api.resources) == list(files.resources)
    pipeline = make_pipeline("surveys", tmp_path / "voc.duckdb", landing)
    with pytest.raises(Exception) as failure:
        pipeline.run(api)  # nothing listens on port 9: the API source, not the folder, was chosen
    assert "surveys API: page 1" in str(failure.value) and "127.0.0.1:9" in str(failure.value)
    pipeline.run(files).raise_on_failed_jobs()


KILLABLE_LOAD = """
import sys
from loaders.api import ApiSourceConfig, HttpRetrySettings, load_family_from_api
from loaders.privacy import RecordGuard, keyed_pseudonymizer
TEST_GUARD = RecordGuard(keyed_pseudonymizer({key!r}))
base_url, warehouse, landing, token = sys.argv[1:5]
sizes = {sizes!r}
for family in ("surveys", "tickets", "reviews", "social", "members"):
    config = ApiSourceConfig(family, base_url, token, page_size=sizes[family])
    load_family_from_api(config, warehouse, landing, TEST_GUARD, HttpRetrySettings(timeout_seconds=60, max_attempts=2))
"""


def test_a_run_killed_midway_and_restarted_ends_like_an_uninterrupted_one(landing, file_warehouse, tmp_path):
    # the loader process hangs on tickets page 3 (surveys are loaded by then) and is killed there
    server, warehouse = _fresh_api_load(landing, tmp_path, faults=[Fault("tickets", 3, "hang", times=1)])
    script = KILLABLE_LOAD.format(sizes=PAGE_SIZES, key=TEST_KEY)
    repo = Path(__file__).resolve().parents[1]
    with server:
        process = subprocess.Popen(
            [sys.executable, "-c", script, server.base_url, str(warehouse), str(landing), TOKEN],
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not any(r.fault == "hang" for r in list(server.requests)) and process.poll() is None:
                assert time.monotonic() < deadline, "the loader never reached the hanging page"
                time.sleep(0.05)
            assert process.poll() is None
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        server.release_hangs()
        tickets_served_before_kill = len(server.served_ids("tickets"))
        assert tickets_served_before_kill == 2 * PAGE_SIZES["tickets"]
        _load_api(server, warehouse, landing)
    _assert_same_raw(file_warehouse, warehouse)


def test_records_can_be_updated_on_a_running_fake_server(landing):
    import requests

    with FakeVendorApi(VendorStore.from_landing(landing)) as server:
        before = len(server.store.entries("tickets"))
        answer = requests.post(f"{server.base_url}/_fake/update?family=tickets&count=3", timeout=10)
        assert answer.status_code == 200 and len(answer.json()["updated"]) == 3
        assert len(server.store.entries("tickets")) == before + 3
        assert requests.post(f"{server.base_url}/_fake/update?family=nope", timeout=10).status_code == 404
