"""A writer process for the single-writer tests: takes the warehouse the way `voc run` does
(``orchestration.writer_lock.hold_warehouse``), then writes like a run's steps do, one connection
per step: a ``start`` row, a pause, an ``end`` row.
A negative HOLD_SECONDS holds until a line (or EOF) arrives on stdin. Two of these never interleave their rows.

    python writer_process.py WAREHOUSE LABEL WAIT_SECONDS HOLD_SECONDS [RUN_ID]

Exit 0 when it wrote; 3 with the error on stderr when the warehouse was busy or in use.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import duckdb

from loaders.writer_lock import WarehouseBusyError, WarehouseInUseError
from orchestration.writer_lock import hold_warehouse


def write_row(warehouse: Path, label: str, event: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table if not exists writes (label text, pid int, event text, written_at double)")
        con.execute("insert into writes values (?, ?, ?, ?)", [label, os.getpid(), event, time.time()])


def main(warehouse: Path, label: str, wait_seconds: float, hold_seconds: float, run_id: str = "") -> int:
    try:
        with hold_warehouse(warehouse, wait_seconds, run_id=run_id, command=f"writer {label}"):
            write_row(warehouse, label, "start")
            print("holding", flush=True)
            if hold_seconds < 0:
                sys.stdin.readline()  # until the test says so
            else:
                time.sleep(hold_seconds)
            write_row(warehouse, label, "end")
    except (WarehouseBusyError, WarehouseInUseError) as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 3
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(main(Path(args[0]), args[1], float(args[2]), float(args[3]), *(args[4:5])))
