"""`voc run` with every feedback source in api mode, killed midway and restarted, ends with the
same marts as an uninterrupted file-mode run of the same data (takes a few minutes)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from float_noise import comparable

from devtools.demo.api import generate
from devtools.fake_api import FakeVendorApi, Fault, VendorStore

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
VOC = Path(sys.executable).with_name("voc")
TOKEN = "e2e-token"
# set by the run itself, not by the data
RUN_DEPENDENT_COLUMNS = {"first_raised_at", "as_of_at"}
# quarantine reasons depend on the transport: a broken JSON line is invalid_json in a file and
# not_an_object from an API, where it arrives as a JSON string
TRANSPORT_DEPENDENT_TABLES = {"quarantine_summary"}


def _env(landing: Path, warehouse: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOC_") and k != "DAGSTER_HOME"}
    # api mode is real data and needs a key of its own; the file run uses the same key, so that
    # both warehouses hold the same pseudonyms
    env.update(VOC_LANDING_DIR=str(landing), VOC_DUCKDB_PATH=str(warehouse), VOC_HASH_SALT="api-e2e-key", **(extra or {}))
    return env


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall() if t not in TRANSPORT_DEPENDENT_TABLES]
        marts = {}
        for table in tables:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall() if c not in RUN_DEPENDENT_COLUMNS]
            rows = con.execute(
                f"select {', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)} from marts.{table} order by all"
            ).fetchall()
            marts[table] = [tuple(map(comparable, row)) for row in rows]
    return marts


def test_killed_api_run_restarted_gives_the_marts_of_an_uninterrupted_file_run(tmp_path):
    landing = tmp_path / "landing"
    generate(landing, rows=200, seed=5)
    file_wh, api_wh = tmp_path / "file" / "voc.duckdb", tmp_path / "api" / "voc.duckdb"
    done = subprocess.run([str(VOC), "run"], cwd=REPO, env=_env(landing, file_wh), capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    store = VendorStore.from_landing(landing)
    sizes = {"surveys": 15, "tickets": 20, "reviews": 15, "social": 15, "members": 15}
    with FakeVendorApi(store, token=TOKEN, page_sizes=sizes, faults=[Fault("tickets", 2, "hang")]) as server:
        env = _env(landing, api_wh, server.env())
        killed = subprocess.Popen([str(VOC), "run"], cwd=REPO, env=env, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 600
            while not any(r.fault == "hang" for r in list(server.requests)):
                assert killed.poll() is None, "voc run ended before reaching the hanging page"
                assert time.monotonic() < deadline
                time.sleep(0.1)
            os.killpg(killed.pid, signal.SIGKILL)
            killed.wait(timeout=60)
        finally:
            if killed.poll() is None:
                os.killpg(killed.pid, signal.SIGKILL)
        server.release_hangs()
        assert all(r.authorized for r in server.requests)
        done = subprocess.run([str(VOC), "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "vendor API at" in done.stdout + done.stderr
        assert TOKEN not in done.stdout + done.stderr

    expected, actual = _marts(file_wh), _marts(api_wh)
    assert set(actual) == set(expected)
    for table in expected:
        assert actual[table] == expected[table], table
