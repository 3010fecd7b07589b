"""dlt sources for the landing folder (file mode): one source per source family.

``<landing>/<family>/`` holds ``*.jsonl`` and ``*.jsonl.gz`` exports (surveys also ``*.csv`` /
``*.csv.gz``, UTF-8 with or without BOM). Files are read in name order, streaming, line by line.
Every line is validated (``loaders.validation``); from the same resource

* valid records go to the family's raw table (``surveys``, ``tickets`` ...), merged on the
  record id so the newest version (``_voc_updated_at``) wins,
* rejected lines go to ``<family>_quarantine`` (one row per file line, with the raw payload),
* one load-log row per file goes to ``<family>_files`` (sha256, size, read/loaded/quarantined).

The resource remembers the sha256 of every file it has read in dlt resource state, which dlt
stores in the warehouse with each load; an unchanged file is skipped, a changed one is re-read
(and its old quarantine rows are replaced). The merge also refuses a version older than the one
already in the warehouse (see ``newest_version_filter``), so a late stale export cannot win.

Constructing a source is cheap and does not touch the filesystem: the folder is listed only when
the resource is iterated by ``pipeline.run`` (dagster-dlt builds sources at definition time).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import dlt
from dlt.extract.resource import DltResource

from loaders.families import FAMILIES  # noqa: F401 - re-exported
from loaders.validation import (
    MEMBER_SPEC,
    PRODUCT_SPEC,
    REVIEW_SPEC,
    SOCIAL_SPEC,
    STORE_SPEC,
    SURVEY_SPEC,
    TICKET_SPEC,
    VERSION_COLUMN,
    FieldSpec,
    Kind,
    RecordSpec,
    Rejected,
    validate_record,
    validate_survey_csv_row,
)

RAW_DATASET = "raw"
LOADER_FILE_FORMAT = "parquet"
"""dlt's default (SQL insert statements) loads DuckDB about 8x slower than parquet files."""
CHUNK_SIZE = 1000
"""Records per yielded list: dlt is much faster with lists than with single items."""

MERGE_DELETE_INSERT = {"disposition": "merge", "strategy": "delete-insert"}
HARD_DELETE_COLUMN = "_voc_deleted"
"""Quarantine rows with this flag only delete: they clear a re-read file's old quarantine rows."""

_DLT_TYPE = {
    Kind.TEXT: "text",
    Kind.TIMESTAMP: "text",  # messy vendor timestamps are kept as received; staging parses them
    Kind.INTEGER: "bigint",
    Kind.SCORE: "bigint",
    Kind.BOOLEAN: "bool",
}

QUARANTINE_COLUMNS: dict[str, dict[str, Any]] = {
    "source": {"data_type": "text"},
    "file": {"data_type": "text", "nullable": False},
    "line": {"data_type": "bigint", "nullable": False},
    "record_id": {"data_type": "text"},
    "reason": {"data_type": "text"},
    "raw_payload": {"data_type": "text"},
    "quarantined_at": {"data_type": "timestamp"},
    HARD_DELETE_COLUMN: {"data_type": "bool", "hard_delete": True},
}

FILES_COLUMNS: dict[str, dict[str, Any]] = {
    "source": {"data_type": "text"},
    "file": {"data_type": "text", "nullable": False},
    "sha256": {"data_type": "text"},
    "size_bytes": {"data_type": "bigint"},
    "records_read": {"data_type": "bigint"},
    "records_loaded": {"data_type": "bigint"},
    "records_quarantined": {"data_type": "bigint"},
    "loaded_at": {"data_type": "timestamp"},
}


# --- table hints --------------------------------------------------------------------------------


def raw_table_columns(spec: RecordSpec) -> tuple[dict[str, dict], dict[str, dict[str, dict]]]:
    """Column hints of a raw table and of its child tables, derived from the record spec.

    Returns ``(columns, nested)``: ``columns`` maps flattened column names (``respondent__phone``)
    to dlt column hints; ``nested`` maps a list field name (``messages``) to its child columns.
    Declaring every column makes it exist even when all values are null, and makes dlt coerce
    values (an epoch int in a text column becomes a digit string) instead of adding variant
    ``__v_`` columns.
    """
    columns: dict[str, dict] = {spec.id_field: {"data_type": "text", "nullable": False}}
    nested: dict[str, dict[str, dict]] = {}

    def add(fields: Iterable[FieldSpec], prefix: str) -> None:
        for field_spec in fields:
            name = f"{prefix}{field_spec.name}"
            if field_spec.kind is Kind.OBJECT:
                add(field_spec.children, f"{name}__")
            elif field_spec.kind is Kind.LIST:
                nested[name] = {
                    child.name: {"data_type": _DLT_TYPE[child.kind]}
                    for child in field_spec.children
                }
            else:
                columns[name] = {"data_type": _DLT_TYPE[field_spec.kind]}

    add(spec.fields, "")
    columns["_voc_file"] = {"data_type": "text"}
    columns["_voc_line"] = {"data_type": "bigint"}
    columns[VERSION_COLUMN] = {
        "data_type": "timestamp",
        "dedup_sort": "desc",
        "nullable": VERSION_COLUMN not in spec.primary_key,
    }
    return columns, nested


def newest_version_filter(spec: RecordSpec, dataset_name: str) -> str:
    """SQL ``source_filter`` for the delete-insert merge: drop loaded rows older than the warehouse.

    ``dedup_sort`` only picks the newest version among the rows of one load; without this filter
    an older version arriving in a later file would replace a newer one already loaded. The
    subquery renames its columns so that the unqualified names resolve to the staged row in
    every statement dlt puts the filter in.
    """
    table = f'"{dataset_name}"."{spec.table}"'
    return (
        "NOT EXISTS (SELECT 1 FROM ("
        f'SELECT "{spec.id_field}" AS _voc_k, "{VERSION_COLUMN}" AS _voc_t FROM {table}'
        f') AS _voc_newer WHERE _voc_newer._voc_k = "{spec.id_field}"'
        f' AND _voc_newer._voc_t > "{VERSION_COLUMN}")'
    )


def raw_write_disposition(spec: RecordSpec, dataset_name: str) -> dict[str, str]:
    """Merge (delete-insert) on the primary key; single-key tables keep only the newest version."""
    disposition = dict(MERGE_DELETE_INSERT)
    if not spec.extra_primary_key:
        disposition["source_filter"] = newest_version_filter(spec, dataset_name)
    return disposition


def _table_hints(spec: RecordSpec, family: str, dataset_name: str) -> dict[str, Any]:
    """dlt hints for the three tables one resource writes, keyed by table name."""
    columns, nested = raw_table_columns(spec)
    return {
        spec.table: dlt.mark.make_hints(
            table_name=spec.table,
            primary_key=list(spec.primary_key),
            write_disposition=raw_write_disposition(spec, dataset_name),
            columns=columns,
            file_format=LOADER_FILE_FORMAT,
            nested_hints={
                name: dlt.mark.make_nested_hints(columns=child_columns)
                for name, child_columns in nested.items()
            },
        ),
        **_history_hints(spec, columns),
        f"{family}_quarantine": dlt.mark.make_hints(
            table_name=f"{family}_quarantine",
            primary_key=["file", "line"],
            # a re-read file replaces all of its quarantine rows, not only the lines still bad
            merge_key="file",
            write_disposition=dict(MERGE_DELETE_INSERT),
            columns=QUARANTINE_COLUMNS,
            file_format=LOADER_FILE_FORMAT,
            nested_hints={},
        ),
        f"{family}_files": dlt.mark.make_hints(
            table_name=f"{family}_files",
            primary_key=["file"],
            write_disposition=dict(MERGE_DELETE_INSERT),
            columns=FILES_COLUMNS,
            file_format=LOADER_FILE_FORMAT,
            nested_hints={},
        ),
    }


def history_table(spec: RecordSpec) -> str | None:
    """Name of the table that keeps every version of the spec's history fields, if it has one."""
    return f"{spec.table}_history" if spec.history_fields else None


def history_columns(spec: RecordSpec) -> tuple[str, ...]:
    """The columns a history table keeps of each version: id, history fields, version time, origin."""
    return (spec.id_field, *spec.history_fields, "_voc_updated_at", "_voc_file", "_voc_line")


def _history_hints(spec: RecordSpec, raw_columns: dict[str, dict]) -> dict[str, Any]:
    table = history_table(spec)
    if table is None:
        return {}
    return {
        table: dlt.mark.make_hints(
            table_name=table,
            primary_key=[spec.id_field, "_voc_updated_at"],
            write_disposition=dict(MERGE_DELETE_INSERT),
            columns={
                **{name: raw_columns[name] for name in history_columns(spec)},
                # part of this table's key, so never null and no dedup sort
                VERSION_COLUMN: {"data_type": "timestamp", "nullable": False},
            },
            file_format=LOADER_FILE_FORMAT,
            nested_hints={},
        )
    }


def _history_rows(spec: RecordSpec, records: list[dict]) -> list[dict]:
    kept = history_columns(spec)
    return [{name: record.get(name) for name in kept} for record in records]


class _TableDispatcher:
    """Marks yielded lists for their table; the first list per table carries the full hints.

    The tables are dlt "table variants" of one resource. Variants start from the resource's own
    hints, so the resource decorator declares no columns (the quarantine table would inherit them)
    and every table's columns live in its variant.
    """

    def __init__(self, hints_by_table: dict[str, Any]) -> None:
        self._hints = hints_by_table
        self._announced: set[str] = set()

    @property
    def tables(self) -> list[str]:
        return list(self._hints)

    def fingerprint(self) -> str:
        """Changes when the declared tables change, so they are declared again."""
        text = json.dumps(
            {name: _jsonable_hints(hints) for name, hints in self._hints.items()},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def mark(self, table: str, items: list[Any]) -> Any:
        if table in self._announced:
            return dlt.mark.with_table_name(items, table)
        self._announced.add(table)
        return dlt.mark.with_hints(items, self._hints[table], create_table_variant=True)


def _jsonable_hints(hints: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "table_name",
        "primary_key",
        "merge_key",
        "write_disposition",
        "columns",
        "nested_hints",
        "file_format",
    )
    return {key: hints.get(key) for key in keep}


# --- reading files ------------------------------------------------------------------------------

_INVALID_JSON = object()
_MALFORMED_ROW = object()
_UNREADABLE = object()
_READ_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile)


@dataclass
class _Line:
    """One physical record of a file: 1-based start line, the text as read, the parsed value."""

    number: int
    raw: str
    value: Any


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def read_jsonl_lines(path: Path) -> Iterator[_Line]:
    """Yield the non-blank lines of a ``.jsonl`` / ``.jsonl.gz`` file, parsed, one at a time.

    Undecodable or unparsable lines come back with ``value`` set to a marker so the caller
    quarantines them; a truncated gzip ends the file with one ``unreadable`` line.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    number = 0
    try:
        with opener(path, "rb") as handle:
            for number, raw_bytes in enumerate(handle, start=1):
                if number == 1 and raw_bytes.startswith(b"\xef\xbb\xbf"):
                    raw_bytes = raw_bytes[3:]
                if not raw_bytes.strip():
                    continue
                raw_bytes = raw_bytes.rstrip(b"\r\n")
                try:
                    text = raw_bytes.decode("utf-8")
                except UnicodeDecodeError:
                    yield _Line(number, raw_bytes.decode("utf-8", "replace"), _INVALID_JSON)
                    continue
                try:
                    value = json.loads(text, parse_constant=_reject_constant)
                except (ValueError, RecursionError):
                    value = _INVALID_JSON
                yield _Line(number, text, value)
    except _READ_ERRORS as exc:
        yield _Line(number + 1, f"<unreadable after line {number}: {exc}>", _UNREADABLE)


class _LineTap:
    """Feeds text lines to ``csv.reader`` and remembers the lines that made up the last row."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self._row_lines: list[str] = []
        self.lines_read = 0

    def __iter__(self) -> "_LineTap":
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self._row_lines.append(line)
        self.lines_read += 1
        return line

    def take_row(self) -> tuple[int, str]:
        """Start line and raw text of the row just parsed."""
        start = self.lines_read - len(self._row_lines) + 1
        text = "".join(self._row_lines).rstrip("\r\n")
        self._row_lines.clear()
        return start, text


def read_csv_rows(path: Path) -> Iterator[_Line]:
    """Yield the non-blank data rows of a CSV file as dicts keyed by the (stripped) header.

    ``number`` is the physical line where the row starts (the header is line 1), ``raw`` the
    row's original text. Rows with a different cell count than the header come back marked
    malformed (trailing empty cells are tolerated).
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    last_line = 0
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:
            tap = _LineTap(handle)
            reader = csv.reader(tap)
            header: list[str] | None = None
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    number, raw = tap.take_row()
                    yield _Line(number, raw, _MALFORMED_ROW)
                    continue
                number, raw = tap.take_row()
                last_line = tap.lines_read
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [name.strip() for name in row]
                    continue
                while len(row) > len(header) and not row[-1].strip():
                    row.pop()
                if len(row) != len(header):
                    yield _Line(number, raw, _MALFORMED_ROW)
                    continue
                yield _Line(number, raw, dict(zip(header, row)))
    except _READ_ERRORS as exc:
        yield _Line(last_line + 1, f"<unreadable after line {last_line}: {exc}>", _UNREADABLE)


def file_digest(path: Path) -> tuple[str, int]:
    """sha256 hex digest and size in bytes of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def is_jsonl_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(".jsonl") or lowered.endswith(".jsonl.gz")


def is_csv_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(".csv") or lowered.endswith(".csv.gz")


def discover_files(folder: Path, accepts_name: Callable[[str], bool]) -> list[Path]:
    """Files under ``folder`` (recursively) whose name is accepted, sorted by relative path.

    Hidden files and folders (``.part`` uploads, ``.DS_Store``) are ignored.
    """
    if not folder.is_dir():
        return []
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file() and accepts_name(path.name):
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


# --- the resource body --------------------------------------------------------------------------


@dataclass
class _FileCounts:
    read: int = 0
    loaded: int = 0
    quarantined: int = 0


def _classify(line: _Line, validate: Callable[[Any], Any]) -> dict | Rejected:
    if line.value is _INVALID_JSON:
        return Rejected("invalid_json")
    if line.value is _MALFORMED_ROW:
        return Rejected("malformed_csv_row")
    if line.value is _UNREADABLE:
        return Rejected("unreadable_file")
    return validate(line.value)


def _lines_of(path: Path) -> Iterator[_Line]:
    return read_csv_rows(path) if is_csv_name(path.name) else read_jsonl_lines(path)


def _file_batches(
    path: Path,
    rel: str,
    family: str,
    validate: Callable[[Any], Any],
    counts: _FileCounts,
    now: datetime,
) -> Iterator[tuple[bool, list[dict]]]:
    """Stream one file as ``(is_valid, batch)`` lists of raw records or quarantine rows.

    Updates ``counts`` as it goes; batches hold at most ``CHUNK_SIZE`` rows.
    """
    records: list[dict] = []
    rejected: list[dict] = []
    for line in _lines_of(path):
        counts.read += 1
        result = _classify(line, validate)
        if isinstance(result, Rejected):
            counts.quarantined += 1
            rejected.append(
                {
                    "source": family,
                    "file": rel,
                    "line": line.number,
                    "record_id": result.record_id,
                    "reason": result.reason,
                    "raw_payload": line.raw,
                    "quarantined_at": now,
                }
            )
            if len(rejected) >= CHUNK_SIZE:
                yield False, rejected
                rejected = []
            continue
        counts.loaded += 1
        result["_voc_file"] = rel
        result["_voc_line"] = line.number
        records.append(result)
        if len(records) >= CHUNK_SIZE:
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
) -> Iterator[Any]:
    """Body of every file resource: yields marked lists for the raw, quarantine and files tables.

    Must run inside a dlt resource (it uses ``dlt.current.resource_state()``).
    """
    state = dlt.current.resource_state()
    loaded_files: dict[str, str] = state.setdefault("files", {})
    dispatcher = _TableDispatcher(_table_hints(spec, family, dataset_name))
    quarantine_table, files_table = f"{family}_quarantine", f"{family}_files"

    # A materialized empty list creates the table with all declared columns even when no data
    # came, so dbt sources exist on a fresh warehouse. Done once per version of the hints, not on
    # every run, so that a run without new files loads nothing at all.
    fingerprint = dispatcher.fingerprint()
    if state.get("declared_tables") != fingerprint:
        for table in dispatcher.tables:
            yield dispatcher.mark(table, dlt.mark.materialize_table_schema())
        state["declared_tables"] = fingerprint

    landing = Path(landing_dir)
    for path in discover_files(landing / family, accepts_name):
        rel = path.relative_to(landing).as_posix()
        digest, size = file_digest(path)
        previous_digest = loaded_files.get(rel)
        if previous_digest == digest:
            continue
        now = datetime.now(timezone.utc)
        if previous_digest is not None:
            # changed file: this row deletes all of its old quarantine rows (merge_key=file),
            # the new ones below come in
            marker = {"source": family, "file": rel, "line": 0, HARD_DELETE_COLUMN: True}
            yield dispatcher.mark(quarantine_table, [marker])

        counts = _FileCounts()
        use_csv = validate_csv_row is not None and is_csv_name(path.name)
        row_validator = validate_csv_row if use_csv else validate
        for is_valid, batch in _file_batches(path, rel, family, row_validator, counts, now):
            yield dispatcher.mark(spec.table if is_valid else quarantine_table, batch)
            if is_valid and history_table(spec):
                yield dispatcher.mark(history_table(spec), _history_rows(spec, batch))
        log_row = {
            "source": family,
            "file": rel,
            "sha256": digest,
            "size_bytes": size,
            "records_read": counts.read,
            "records_loaded": counts.loaded,
            "records_quarantined": counts.quarantined,
            "loaded_at": now,
        }
        yield dispatcher.mark(files_table, [log_row])
        # recorded only once the whole file is yielded; dlt commits state with the extracted package
        loaded_files[rel] = digest


def _file_resource(
    family: str,
    spec: RecordSpec,
    landing_dir: str | os.PathLike[str],
    dataset_name: str,
    accepts_name: Callable[[str], bool],
    validate_csv_row: Callable[[Any], Any] | None = None,
) -> DltResource:
    """A dlt resource named after the raw table that reads the family's landing files."""

    def validate(value: Any) -> Any:
        return validate_record(spec, value)

    def read_landing_files() -> Iterator[Any]:
        yield from extract_family_files(
            family, spec, landing_dir, dataset_name, accepts_name, validate, validate_csv_row
        )

    # No `columns` here: the resource's hints are the template of its table variants (see
    # _TableDispatcher); the raw table's columns arrive with its first yielded list.
    return dlt.resource(
        read_landing_files,
        name=spec.table,
        primary_key=list(spec.primary_key),
        write_disposition=raw_write_disposition(spec, dataset_name),
        file_format=LOADER_FILE_FORMAT,
    )


def _disable_timestamp_detection() -> None:
    # Unknown (drifted) fields keep their JSON type: a string that looks like a timestamp stays
    # text, so one odd value later cannot split the column into variants.
    dlt.current.source_schema().remove_type_detection("iso_timestamp")


@dlt.source(name="surveys")
def surveys_source(landing_dir: str, dataset_name: str = RAW_DATASET) -> Any:
    """Survey responses from ``<landing>/surveys/*.jsonl[.gz]`` and ``*.csv[.gz]``."""
    _disable_timestamp_detection()
    return _file_resource(
        "surveys",
        SURVEY_SPEC,
        landing_dir,
        dataset_name,
        lambda name: is_jsonl_name(name) or is_csv_name(name),
        validate_survey_csv_row,
    )


@dlt.source(name="tickets")
def tickets_source(landing_dir: str, dataset_name: str = RAW_DATASET) -> Any:
    """Helpdesk tickets (with messages) from ``<landing>/tickets/*.jsonl[.gz]``."""
    _disable_timestamp_detection()
    return _file_resource("tickets", TICKET_SPEC, landing_dir, dataset_name, is_jsonl_name)


@dlt.source(name="reviews")
def reviews_source(landing_dir: str, dataset_name: str = RAW_DATASET) -> Any:
    """E-commerce and app-store reviews from ``<landing>/reviews/*.jsonl[.gz]``."""
    _disable_timestamp_detection()
    return _file_resource("reviews", REVIEW_SPEC, landing_dir, dataset_name, is_jsonl_name)


@dlt.source(name="social")
def social_source(landing_dir: str, dataset_name: str = RAW_DATASET) -> Any:
    """Social-listening posts from ``<landing>/social/*.jsonl[.gz]``."""
    _disable_timestamp_detection()
    return _file_resource("social", SOCIAL_SPEC, landing_dir, dataset_name, is_jsonl_name)


@dlt.source(name="members")
def members_source(landing_dir: str, dataset_name: str = RAW_DATASET) -> Any:
    """CRM member versions from ``<landing>/members/*.jsonl[.gz]`` (every version is kept)."""
    _disable_timestamp_detection()
    return _file_resource("members", MEMBER_SPEC, landing_dir, dataset_name, is_jsonl_name)


def _reference_name_filter(prefix: str) -> Callable[[str], bool]:
    return lambda name: is_jsonl_name(name) and name.lower().startswith(prefix)


@dlt.source(name="reference")
def reference_source(landing_dir: str, dataset_name: str = RAW_DATASET) -> Any:
    """Stores and products from ``<landing>/reference/stores*.jsonl[.gz]`` / ``products*...``.

    Both resources share ``reference_quarantine`` and ``reference_files``; other files in the
    folder are ignored.
    """
    _disable_timestamp_detection()
    return (
        _file_resource(
            "reference", STORE_SPEC, landing_dir, dataset_name, _reference_name_filter("stores")
        ),
        _file_resource(
            "reference", PRODUCT_SPEC, landing_dir, dataset_name, _reference_name_filter("products")
        ),
    )


FAMILY_SPECS: dict[str, tuple[RecordSpec, ...]] = {
    "surveys": (SURVEY_SPEC,),
    "tickets": (TICKET_SPEC,),
    "reviews": (REVIEW_SPEC,),
    "social": (SOCIAL_SPEC,),
    "members": (MEMBER_SPEC,),
    "reference": (STORE_SPEC, PRODUCT_SPEC),
}
"""Record specs (one per raw table) of each family."""

SOURCES: dict[str, Callable[..., Any]] = {
    "surveys": surveys_source,
    "tickets": tickets_source,
    "reviews": reviews_source,
    "social": social_source,
    "members": members_source,
    "reference": reference_source,
}
"""Source factory per family: ``SOURCES[family](landing_dir)`` returns a dlt source."""
