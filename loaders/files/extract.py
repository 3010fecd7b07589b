"""The body of every file resource: landing files in, marked lists for the raw, history,
quarantine and load-log tables out.

Every record is validated (``loaders.validation``); from the same resource

* valid records go to the family's raw table (``surveys``, ``tickets`` ...), merged on the
  record id so the newest version (``_voc_updated_at``) wins,
* rejected lines go to ``<family>_quarantine`` (one row per file line, with the raw payload),
* one load-log row per file goes to ``<family>_files`` (sha256, size, read/loaded/quarantined,
  and ``fields_seen``: how many valid records carried each field path, see
  ``loaders.contracts.drift``).

Files are read only from inside the landing folder (``loaders.files.readers.scan_files``): a
symbolic link whose target leaves it is not read; it gets a load-log row with
``refused_reason = 'symlink_outside_landing'`` and no counts, and a warning naming the link's
path relative to the landing folder (never the target). The row goes when the link goes.

The resource remembers the sha256 of every file it has read in dlt resource state, which dlt
stores in the warehouse with each load; an unchanged file is skipped, a changed one is re-read
(and its old quarantine rows are replaced). The merge also refuses a version older than the one
already in the warehouse (see ``loaders.hints.newest_version_filter``), so a late stale export
cannot win.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import dlt

from loaders.contracts.drift import FieldsSeen
from loaders.contracts.spec import RecordSpec
from loaders.dispatch import TableDispatcher
from loaders.files.columnar import ArrowLayout, HistoryLayout
from loaders.files.parallel import (
    PARALLEL_MIN_BYTES,
    classify_in_pool,
    classify_line,  # noqa: F401  (re-exported: tests and callers classify single lines here)
    classify_serially,
)
from loaders.files.readers import (
    ByteCounter,
    Line,
    file_digest,
    is_csv_name,
    is_inside,
    read_csv_rows,
    read_jsonl_lines,
    scan_files,
)
from loaders.hints import HARD_DELETE_COLUMN, history_rows, history_table, table_hints
from loaders.progress import LoadProgress
from loaders.validation import Rejected

CHUNK_SIZE = 1000
"""Records per yielded list: dlt is much faster with lists than with single items."""
ARROW_CHUNK_SIZE = 20_000
"""Records per Arrow batch (``loaders.files.columnar``): large enough that dlt's per-item cost
vanishes, small enough to keep a batch's Python records in memory."""
REFUSED_STATE_KEY = "refused"
"""Resource state: ``relative path -> reason`` of the links already recorded as refused."""

log = logging.getLogger(__name__)


@dataclass
class FileCounts:
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    fields: FieldsSeen | None = field(default=None)


def _lines_of(path: Path, counter: ByteCounter | None = None, parse: bool = True) -> Iterator[Line]:
    return read_csv_rows(path, counter) if is_csv_name(path.name) else read_jsonl_lines(path, counter, parse)


def file_batches(
    path: Path,
    rel: str,
    family: str,
    validate: Callable[[Any], Any],
    counts: FileCounts,
    now: datetime,
    protect_quarantined: Callable[[str], str],
    chunk_size: int = CHUNK_SIZE,
    counter: ByteCounter | None = None,
    workers: int = 1,
) -> Iterator[tuple[bool, list[dict]]]:
    """Stream one file as ``(is_valid, batch)`` lists of raw records or quarantine rows.

    Updates ``counts`` as it goes; batches hold at most ``chunk_size`` rows. With ``workers``
    above 1 the lines are parsed, validated and protected by that many worker processes
    (``loaders.files.parallel``), with the same results in the same order.
    """
    records: list[dict] = []
    rejected: list[dict] = []
    if workers > 1:
        classified = classify_in_pool(_lines_of(path, counter, parse=False), validate, protect_quarantined, workers)
    else:
        classified = classify_serially(_lines_of(path, counter), validate, protect_quarantined)
    for number, result, protected_raw in classified:
        counts.read += 1
        if isinstance(result, Rejected):
            counts.quarantined += 1
            rejected.append(
                {
                    "source": family,
                    "file": rel,
                    "line": number,
                    "record_id": result.record_id,
                    "reason": result.reason,
                    "raw_payload": protected_raw,
                    "quarantined_at": now,
                }
            )
            if len(rejected) >= chunk_size:
                yield False, rejected
                rejected = []
            continue
        counts.loaded += 1
        if counts.fields is not None:
            counts.fields.observe(result)
        result["_voc_file"] = rel
        result["_voc_line"] = number
        records.append(result)
        if len(records) >= chunk_size:
            yield True, records
            records = []
    if records:
        yield True, records
    if rejected:
        yield False, rejected


def extract_family_files(
    family: str,
    spec: RecordSpec,
    landing_dir: str | os.PathLike[str],
    dataset_name: str,
    accepts_name: Callable[[str], bool],
    validate: Callable[[Any], Any],
    validate_csv_row: Callable[[Any], Any] | None = None,
    *,
    protect_quarantined: Callable[[str], str],
    layout: ArrowLayout | None = None,
    history: HistoryLayout | None = None,
    workers: int = 1,
) -> Iterator[Any]:
    """Body of every file resource: yields marked items for the raw, quarantine and files tables.

    With a ``layout`` valid records go to dlt as Arrow tables (``loaders.files.columnar``),
    without one as lists of dicts for dlt's normalizer; with a ``history`` layout (and no
    ``layout``, e.g. tickets) their history rows go as Arrow tables all the same. A file of ``PARALLEL_MIN_BYTES`` or more
    is classified by ``workers`` processes when ``workers`` is above 1
    (``loaders.files.parallel``). Logs the load's progress
    (``loaders.progress``). Must run inside a dlt resource (it uses
    ``dlt.current.resource_state()``).
    """
    state = dlt.current.resource_state()
    loaded_files: dict[str, str] = state.setdefault("files", {})
    dispatcher = TableDispatcher(table_hints(spec, family, dataset_name))
    quarantine_table, files_table = f"{family}_quarantine", f"{family}_files"

    yield from dispatcher.declare_tables(state)

    refused_before: dict[str, str] = state.setdefault(REFUSED_STATE_KEY, {})
    landing = Path(landing_dir)
    scan = scan_files(landing / family, accepts_name, root=landing)
    refused_now = {refused.path.relative_to(landing).as_posix() for refused in scan.refused}
    listed_now = {path.relative_to(landing).as_posix() for path in scan.files}
    for rel in sorted(set(refused_before) - refused_now - listed_now):
        # the refused link is gone: so is its load-log row
        yield dispatcher.mark(files_table, [{"source": family, "file": rel, HARD_DELETE_COLUMN: True}])
        del refused_before[rel]
    for refused in scan.refused:
        rel = refused.path.relative_to(landing).as_posix()
        log.warning(
            "%s: refused landing path %s (%s): its target is not read", family, rel, refused.reason
        )
        if refused_before.get(rel) == refused.reason or rel in loaded_files:
            # already recorded; or loaded before it became a link, and its load-log row and raw
            # rows stay as they were (the warning above says it each run)
            continue
        yield dispatcher.mark(files_table, [refused_log_row(family, rel, refused.reason)])
        refused_before[rel] = refused.reason

    pending: list[tuple[Path, str, str, int, str | None]] = []
    for path in scan.files:
        rel = path.relative_to(landing).as_posix()
        if not is_inside(path, landing):
            # became a link leaving the landing folder since the scan: next run records it
            log.warning("%s: refused landing path %s: it changed into a link leaving the landing folder", family, rel)
            continue
        refused_before.pop(rel, None)
        digest, size = file_digest(path)
        previous_digest = loaded_files.get(rel)
        if previous_digest != digest:
            pending.append((path, rel, digest, size, previous_digest))

    progress = LoadProgress(f"{family}/{spec.table}", sum(item[3] for item in pending), log)
    load_id = dlt.current.load_package_state()["load_id"] if layout or history else ""
    for path, rel, digest, size, previous_digest in pending:
        now = datetime.now(timezone.utc)
        if previous_digest is not None:
            # changed file: this row deletes all of its old quarantine rows (merge_key=file),
            # the new ones below come in
            marker = {"source": family, "file": rel, "line": 0, HARD_DELETE_COLUMN: True}
            yield dispatcher.mark(quarantine_table, [marker])

        counts = FileCounts(fields=FieldsSeen(spec))
        use_csv = validate_csv_row is not None and is_csv_name(path.name)
        row_validator = validate_csv_row if use_csv else validate
        counter = ByteCounter()
        chunk_size = CHUNK_SIZE if layout is None else ARROW_CHUNK_SIZE
        file_workers = workers if size >= PARALLEL_MIN_BYTES else 1
        batches = file_batches(
            path, rel, family, row_validator, counts, now, protect_quarantined, chunk_size, counter, file_workers
        )
        for is_valid, batch in batches:
            if not is_valid:
                yield dispatcher.mark(quarantine_table, batch)
            elif layout is None:
                yield from _record_lists(dispatcher, spec, batch, history, load_id)
            else:
                yield from _arrow_tables(dispatcher, layout, batch, load_id)
            progress.update(len(batch), counter.bytes)
        progress.file_done(size)
        log_row = {
            "source": family,
            "file": rel,
            "sha256": digest,
            "size_bytes": size,
            "records_read": counts.read,
            "records_loaded": counts.loaded,
            "records_quarantined": counts.quarantined,
            "loaded_at": now,
            "fields_seen": counts.fields.to_json() if counts.fields is not None else None,
            "refused_reason": None,
        }
        yield dispatcher.mark(files_table, [log_row])
        # recorded only once the whole file is yielded; dlt commits state with the extracted package
        loaded_files[rel] = digest


def _record_lists(
    dispatcher: TableDispatcher,
    spec: RecordSpec,
    records: list[dict],
    history: HistoryLayout | None = None,
    load_id: str = "",
) -> Iterator[Any]:
    """Valid records as dicts, for dlt's normalizer: the raw table's rows and their history
    (as an Arrow table with a ``history`` layout)."""
    yield dispatcher.mark(spec.table, records)
    if history is not None:
        yield dispatcher.mark(history.table, history.from_records(records, load_id))  # type: ignore[arg-type]
    elif history_table(spec):
        yield dispatcher.mark(history_table(spec), history_rows(spec, records))


def _arrow_tables(
    dispatcher: TableDispatcher,
    layout: ArrowLayout,
    records: list[dict],
    load_id: str,
) -> Iterator[Any]:
    """Valid records as Arrow tables (``loaders.files.columnar``); the few that carry fields
    outside the contract or list items go as dicts, for dlt's normalizer."""
    fitting: list[dict] = []
    odd: list[dict] = []
    for record in records:
        (fitting if layout.fits(record) else odd).append(record)
    if fitting:
        for table, arrow_table in layout.tables(fitting, load_id):
            yield dispatcher.mark(table, arrow_table)  # type: ignore[arg-type]
    if odd:
        yield from _record_lists(dispatcher, layout.spec, odd)


def refused_log_row(family: str, rel: str, reason: str) -> dict:
    """The load-log row of a path that was not read: no hash, no size, no records."""
    return {
        "source": family,
        "file": rel,
        "sha256": None,
        "size_bytes": None,
        "records_read": 0,
        "records_loaded": 0,
        "records_quarantined": 0,
        "loaded_at": datetime.now(timezone.utc),
        "fields_seen": None,
        "refused_reason": reason,
    }
