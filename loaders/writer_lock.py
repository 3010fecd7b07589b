"""One writer per warehouse, across processes, and DuckDB's own lock conflicts explained.

DuckDB lets one process open a database file for writing, and none while another process has it
open, even read-only. Two things follow:

* **Writers take turns.** Every process that writes the warehouse (``voc run``, a Dagster run,
  a test) first takes an exclusive ``fcntl`` lock on ``<warehouse>.writer.lock`` beside the file
  and holds it for its whole run. A second writer waits up to a bounded time for it and then
  stops with :class:`WarehouseBusyError`, which names the holder (pid, command, since when, run
  id). The lock file records its holder while it is held; the operating system drops the lock
  when the holding process dies, however it dies, so a crash never leaves the warehouse locked.
  Within one process the lock is re-entrant (``voc run`` holds it, and so does the run inside).
* **Readers are named.** A process that holds the DuckDB file open (a BI tool, a notebook) makes
  every write fail with DuckDB's ``Could not set lock on file`` IOException. A writer first waits
  (the same bounded time) for the file to become writable, and any such error is turned into
  :class:`WarehouseInUseError`, which names the reader's pid and program and what to do. Nothing
  is written before that, so the warehouse is left as it was.

No secret can leak through these messages: a process is described by its program name (and a
Python script or module name), never by its arguments.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

LOCK_SUFFIX = ".writer.lock"
POLL_SECONDS = 0.25
DUCKDB_LOCK_ERROR = "Could not set lock on file"
_DUCKDB_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


class WarehouseBusyError(RuntimeError):
    """Another writer holds the warehouse's writer lock beyond the wait this writer allows."""


class WarehouseInUseError(RuntimeError):
    """Another process holds the DuckDB file open (a reader such as a BI tool), so nobody can write it."""


@dataclass(frozen=True)
class Holder:
    """Who holds the writer lock: recorded in the lock file while it is held."""

    pid: int
    command: str
    since: str  # ISO 8601, UTC
    run_id: str = ""

    def describe(self) -> str:
        run = f", Dagster run {self.run_id}" if self.run_id else ""
        return f"pid {self.pid} ({self.command}), since {self.since}{run}"

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        try:
            data = json.loads(text)
            return cls(int(data["pid"]), str(data["command"]), str(data["since"]), str(data.get("run_id") or ""))
        except (ValueError, KeyError, TypeError):
            return None


def lock_path_for(warehouse_path: str | os.PathLike[str]) -> Path:
    """``voc.duckdb`` -> ``voc.duckdb.writer.lock`` in the same folder."""
    path = Path(warehouse_path).resolve()
    return path.with_name(path.name + LOCK_SUFFIX)


def read_holder(warehouse_path: str | os.PathLike[str]) -> Holder | None:
    """The holder recorded in the lock file (None when free, or never taken)."""
    try:
        return Holder.parse(lock_path_for(warehouse_path).read_text(encoding="utf-8"))
    except OSError:
        return None


def process_label(argv: list[str] | None = None) -> str:
    """``voc run``, ``python -m pytest``, ``dagster api``: the program and, for an interpreter, the
    script or module; never the remaining arguments (they may carry secrets)."""
    argv = list(sys.argv if argv is None else argv)
    program = Path(argv[0]).name if argv and argv[0] else "python"
    rest = argv[1:]
    if rest and rest[0] == "-m" and len(rest) > 1:
        return f"{program} -m {rest[1]}"
    if rest and not rest[0].startswith("-") and re.fullmatch(r"[\w./-]{1,80}", rest[0]):
        return f"{program} {Path(rest[0]).name}"
    return program


def describe_pid(pid: int) -> str:
    """``pid 123 (python3 -m notebook)`` from /proc where it can be read, else ``pid 123``."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"pid {pid}"
    argv = [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    return f"pid {pid} ({process_label(argv)})" if argv else f"pid {pid}"


@dataclass
class _Held:
    fd: int
    depth: int
    holder: Holder


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise


def _write_holder(fd: int, holder: Holder) -> None:
    data = json.dumps(asdict(holder)).encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


@contextmanager
def hold_writer_lock(
    warehouse_path: str | os.PathLike[str],
    *,
    wait_seconds: float,
    command: str | None = None,
    run_id: str = "",
    on_wait: Callable[[Holder | None], None] | None = None,
) -> Iterator[Holder | None]:
    """Hold the warehouse's writer lock for the ``with`` block.

    Waits up to ``wait_seconds`` for another holder (``on_wait`` is told once who it waits for),
    then raises :class:`WarehouseBusyError`. Yields the holder a dead process left recorded in
    the lock file (its run never finished), or None. Re-entrant within one process.
    """
    lock_path = lock_path_for(warehouse_path)
    with _guard:
        held = _held.get(lock_path)
        if held is not None:
            held.depth += 1
            if run_id and not held.holder.run_id:
                held.holder = Holder(held.holder.pid, held.holder.command, held.holder.since, run_id)
                _write_holder(held.fd, held.holder)
    if held is not None:
        try:
            yield None
        finally:
            with _guard:
                held.depth -= 1
        return

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + max(wait_seconds, 0.0)
        told = False
        while not _try_flock(fd):
            holder = read_holder(warehouse_path)
            if time.monotonic() >= deadline:
                who = holder.describe() if holder else "another process (it has not said who)"
                raise WarehouseBusyError(
                    f"the warehouse {Path(warehouse_path)} is being written by {who}; waited "
                    f"{wait_seconds:g}s (VOC_WRITER_WAIT_SECONDS) and stopped without writing anything. "
                    "Run again when that run has finished."
                )
            if on_wait is not None and not told:
                on_wait(holder)
                told = True
            time.sleep(POLL_SECONDS)
        left_behind = Holder.parse(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        holder = Holder(
            os.getpid(),
            command or process_label(),
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
            run_id,
        )
        _write_holder(fd, holder)
    except BaseException:
        os.close(fd)
        raise
    with _guard:
        _held[lock_path] = _Held(fd, 1, holder)
    try:
        yield left_behind
    finally:
        with _guard:
            del _held[lock_path]
        try:
            os.ftruncate(fd, 0)  # free: nobody recorded
        finally:
            os.close(fd)  # closing the last descriptor drops the flock


# --- DuckDB's own lock: a reader holding the file -----------------------------------------------------


def lock_conflict(exc: BaseException, warehouse_path: str | os.PathLike[str]) -> WarehouseInUseError | None:
    """The clear error for DuckDB's "Could not set lock on file" anywhere in ``exc``'s chain
    (dlt wraps it in its own step errors), else None."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        text = str(current)
        if DUCKDB_LOCK_ERROR in text:
            return in_use_error(warehouse_path, text)
        pending.extend([current.__cause__, current.__context__, getattr(current, "exception", None)])
    return None


def lock_holder_of(duckdb_message: str) -> str:
    """``pid 123 (python3 -m notebook)``: the process DuckDB says holds its file lock."""
    match = _DUCKDB_LOCK_HOLDER.search(duckdb_message)
    if not match:
        return "another process"
    pid = int(match.group("pid"))
    return describe_pid(pid) if pid != os.getpid() else f"pid {pid} (this process)"


def in_use_error(warehouse_path: str | os.PathLike[str], duckdb_message: str) -> WarehouseInUseError:
    who = lock_holder_of(duckdb_message)
    return WarehouseInUseError(
        f"the warehouse {Path(warehouse_path)} is open in another process ({who}), and DuckDB lets "
        "nobody write a file another process has open, even read-only. Close the BI tool or "
        "reader (or point it at a copy of the warehouse) and run again; nothing was written."
    )


@contextmanager
def explain_lock_conflicts(warehouse_path: str | os.PathLike[str]) -> Iterator[None]:
    """Re-raise DuckDB's lock conflict inside the block as :class:`WarehouseInUseError`."""
    try:
        yield
    except WarehouseInUseError:
        raise
    except Exception as exc:
        error = lock_conflict(exc, warehouse_path)
        if error is None:
            raise
        raise error from exc


def wait_until_writable(
    warehouse_path: str | os.PathLike[str],
    wait_seconds: float,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Return once this process can open the warehouse for writing; wait up to ``wait_seconds``
    for readers of other processes to let go (``on_wait`` is told once which process it waits
    for), then raise :class:`WarehouseInUseError`.

    A missing file is writable. Only DuckDB's lock conflict counts: any other error opening the
    file (e.g. this process already has it open with other settings) is left to the writer.
    """
    import duckdb

    path = Path(warehouse_path)
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    told = False
    while path.exists():
        try:
            duckdb.connect(str(path)).close()
            return
        except duckdb.IOException as exc:
            if DUCKDB_LOCK_ERROR not in str(exc):
                return
            if time.monotonic() >= deadline:
                raise in_use_error(path, str(exc)) from None
            if on_wait is not None and not told:
                on_wait(lock_holder_of(str(exc)))
                told = True
        except duckdb.Error:
            return
        time.sleep(POLL_SECONDS)
