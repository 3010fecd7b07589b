"""One writer, always: real processes, real DuckDB files (``loaders.writer_lock``).

Each writer process (``writer_process.py``) takes the warehouse the way ``voc run`` does and then
opens one DuckDB connection per write, as a run's steps do: without the writer lock, two of them
would interleave their writes.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from loaders.writer_lock import (
    Holder,
    WarehouseBusyError,
    WarehouseInUseError,
    explain_lock_conflicts,
    hold_writer_lock,
    lock_path_for,
    process_label,
    read_holder,
    wait_until_writable,
)

WRITER = Path(__file__).with_name("writer_process.py")


def start_writer(warehouse: Path, label: str, wait: float, hold: float, run_id: str = "") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(warehouse), label, str(wait), str(hold), run_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: float = 60) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def writes(warehouse: Path) -> list[tuple[str, int, str, float]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select label, pid, event, written_at from writes order by written_at").fetchall()


def start_reader(warehouse: Path) -> subprocess.Popen:
    """A BI tool: a read-only DuckDB connection held open until killed."""
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(warehouse)!r}, read_only=True)\n"
        "print(con.execute('select count(*) from writes').fetchone()[0], flush=True)\n"
        "time.sleep(120)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip().isdigit()
    return process


def release(process: subprocess.Popen) -> None:
    """Let a writer started with a negative hold time finish."""
    process.stdin.write("done\n")
    process.stdin.flush()


def test_two_writers_started_together_take_turns(tmp_path):
    warehouse = tmp_path / "voc.duckdb"
    writers = {"a": start_writer(warehouse, "a", 60, -1), "b": start_writer(warehouse, "b", 60, -1)}
    # whichever got the lock says so; the other says whom it waits for
    ready, _, _ = select.select([w.stdout for w in writers.values()], [], [], 60)
    first = next(label for label, w in writers.items() if w.stdout in ready)
    second = "b" if first == "a" else "a"
    assert writers[first].stdout.readline().strip() == "holding"
    waiting = writers[second].stderr.readline()
    assert f"being written by pid {writers[first].pid} (writer {first})" in waiting and "waiting up to 60s" in waiting
    release(writers[first])
    assert writers[second].stdout.readline().strip() == "holding"
    release(writers[second])
    assert [finish(w)[0] for w in writers.values()] == [0, 0]
    # one writer's start and end, then the other's: never both inside at once
    assert [(label, event) for label, _, event, _ in writes(warehouse)] == [
        (first, "start"), (first, "end"), (second, "start"), (second, "end")
    ]


def test_a_second_writer_that_may_not_wait_long_exits_naming_the_holder(tmp_path):
    warehouse = tmp_path / "voc.duckdb"
    holder = start_writer(warehouse, "night", 0, -1)
    assert holder.stdout.readline().strip() == "holding"
    code, stderr = finish(start_writer(warehouse, "manual", 0.5, 0))
    assert code == 3
    assert f"WarehouseBusyError: the warehouse {warehouse} is being written by pid {holder.pid} (writer night), since " in stderr
    assert "waited 0.5s (VOC_WRITER_WAIT_SECONDS) and stopped without writing anything" in stderr
    release(holder)
    assert finish(holder)[0] == 0
    assert [(label, event) for label, _, event, _ in writes(warehouse)] == [("night", "start"), ("night", "end")]
    assert read_holder(warehouse) is None  # released: nobody recorded


def test_a_reader_holding_the_file_stops_the_writer_with_its_name_and_nothing_changes(tmp_path):
    warehouse = tmp_path / "voc.duckdb"
    assert finish(start_writer(warehouse, "first", 0, 0))[0] == 0
    before = writes(warehouse)
    reader = start_reader(warehouse)
    try:
        code, stderr = finish(start_writer(warehouse, "night", 1, 0))
    finally:
        reader.kill()
        reader.wait()
    assert code == 3
    assert f"WarehouseInUseError: the warehouse {warehouse} is open in another process (pid {reader.pid} (python" in stderr
    assert "Close the BI tool or reader" in stderr and "nothing was written" in stderr
    assert writes(warehouse) == before  # readable, unchanged
    assert finish(start_writer(warehouse, "after", 0, 0))[0] == 0  # once the reader is gone, the writer runs


def test_a_writer_waits_for_a_reader_that_closes_in_time(tmp_path):
    warehouse = tmp_path / "voc.duckdb"
    assert finish(start_writer(warehouse, "first", 0, 0))[0] == 0
    reader = start_reader(warehouse)
    writer = start_writer(warehouse, "night", 30, 0)
    waiting = writer.stderr.readline()  # the writer says it waits, and for whom
    assert f"is open in another process (pid {reader.pid} (python" in waiting and "waiting up to 30s" in waiting
    reader.kill()
    reader.wait()
    code, stderr = finish(writer)
    assert code == 0, stderr
    assert [label for label, *_ in writes(warehouse)] == ["first", "first", "night", "night"]


def test_the_lock_dies_with_its_process_and_the_next_writer_learns_whose_run_was_left(tmp_path):
    warehouse = tmp_path / "voc.duckdb"
    holder = start_writer(warehouse, "killed", 0, 60, run_id="run-123")
    assert holder.stdout.readline().strip() == "holding"
    assert read_holder(warehouse).run_id == "run-123"
    with pytest.raises(WarehouseBusyError, match=f"pid {holder.pid} \\(writer killed\\).*Dagster run run-123"):
        with hold_writer_lock(warehouse, wait_seconds=0):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    with hold_writer_lock(warehouse, wait_seconds=5) as left_behind:
        assert time.monotonic() - started < 2
        assert left_behind.pid == holder.pid and left_behind.run_id == "run-123"
        assert read_holder(warehouse).pid == os.getpid()
    assert read_holder(warehouse) is None


def test_the_lock_is_reentrant_within_a_process_and_exclusive_across_processes(tmp_path):
    warehouse = tmp_path / "voc.duckdb"
    with hold_writer_lock(warehouse, wait_seconds=0, command="voc run"):
        with hold_writer_lock(warehouse, wait_seconds=0, run_id="r1"):
            assert read_holder(warehouse).run_id == "r1"
        assert read_holder(warehouse).command == "voc run"  # the outer hold goes on
        code, stderr = finish(start_writer(warehouse, "other", 0.3, 0))
        assert code == 3 and f"pid {os.getpid()} (voc run)" in stderr and "Dagster run r1" in stderr
    assert lock_path_for(warehouse) == tmp_path / "voc.duckdb.writer.lock"


def test_duckdb_lock_errors_deep_in_a_chain_are_explained(tmp_path):
    warehouse = tmp_path / "voc.duckdb"
    duckdb.connect(str(warehouse)).close()
    reader = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,time;c=duckdb.connect({str(warehouse)!r},read_only=True);print(1,flush=True);time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        reader.stdout.readline()
        with pytest.raises(WarehouseInUseError) as error:
            with explain_lock_conflicts(warehouse):
                try:
                    duckdb.connect(str(warehouse))
                except duckdb.IOException as exc:
                    # dlt wraps the destination's error in its own step error
                    raise RuntimeError("Pipeline execution failed at stage load") from exc
        assert f"pid {reader.pid}" in str(error.value)
        with pytest.raises(WarehouseInUseError):
            wait_until_writable(warehouse, 0)
    finally:
        reader.kill()
        reader.wait()
    wait_until_writable(warehouse, 0)
    with pytest.raises(ValueError), explain_lock_conflicts(warehouse):
        raise ValueError("not a lock problem")


def test_a_process_is_named_without_its_arguments():
    assert process_label(["/venv/bin/voc", "run"]) == "voc run"
    assert process_label(["/usr/bin/python3", "-m", "pytest", "--token=s3cret"]) == "python3 -m pytest"
    assert process_label(["/opt/bi/tool", "--password", "s3cret"]) == "tool"
    assert process_label(["python", "https://x.example/?key=s3cret"]) == "python"
    assert Holder.parse("not json") is None
