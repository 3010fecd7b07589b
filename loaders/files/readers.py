"""Reading landing files: discovering them, hashing them, and streaming their records.

``*.jsonl`` / ``*.jsonl.gz`` are read line by line, ``*.csv`` / ``*.csv.gz`` (UTF-8 with or without
BOM) row by row; both yield :class:`Line` s whose ``value`` is the parsed record, or one of the
markers ``INVALID_JSON``, ``INVALID_UTF8``, ``MALFORMED_ROW``, ``UNREADABLE`` for damage the
caller quarantines.
Nothing here validates records or knows about dlt.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

INVALID_JSON = object()
INVALID_UTF8 = object()
MALFORMED_ROW = object()
UNREADABLE = object()
_UNDECODABLE_BYTE = re.compile("[\udc80-\udcff]")
"""What ``surrogateescape`` decodes a byte that is not UTF-8 to."""
_READ_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile)


@dataclass
class Line:
    """One physical record of a file: 1-based start line, the text as read, the parsed value."""

    number: int
    raw: str
    value: Any


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def read_jsonl_lines(path: Path) -> Iterator[Line]:
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
                    yield Line(number, raw_bytes.decode("utf-8", "replace"), INVALID_JSON)
                    continue
                try:
                    value = json.loads(text, parse_constant=_reject_constant)
                except (ValueError, RecursionError):
                    value = INVALID_JSON
                yield Line(number, text, value)
    except _READ_ERRORS as exc:
        yield Line(number + 1, f"<unreadable after line {number}: {exc}>", UNREADABLE)


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


def read_csv_rows(path: Path) -> Iterator[Line]:
    """Yield the non-blank data rows of a CSV file as dicts keyed by the (stripped) header.

    ``number`` is the physical line where the row starts (the header is line 1), ``raw`` the
    row's original text. Rows with a different cell count than the header come back marked
    malformed (trailing empty cells are tolerated); rows holding bytes that are not UTF-8 come
    back marked ``INVALID_UTF8`` with those bytes shown as U+FFFD in ``raw`` (a JSONL line with
    the same fault is ``INVALID_JSON``).
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    last_line = 0
    try:
        # surrogateescape keeps undecodable bytes recognisable (U+DC80..U+DCFF) instead of
        # silently replacing them, so the row they are in can be quarantined
        with opener(path, "rt", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
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
                    yield Line(number, raw, MALFORMED_ROW)
                    continue
                number, raw = tap.take_row()
                last_line = tap.lines_read
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [_shown_with_replacements(name).strip() for name in row]
                    continue
                if _UNDECODABLE_BYTE.search(raw):
                    yield Line(number, _shown_with_replacements(raw), INVALID_UTF8)
                    continue
                while len(row) > len(header) and not row[-1].strip():
                    row.pop()
                if len(row) != len(header):
                    yield Line(number, raw, MALFORMED_ROW)
                    continue
                yield Line(number, raw, dict(zip(header, row)))
    except _READ_ERRORS as exc:
        yield Line(last_line + 1, f"<unreadable after line {last_line}: {exc}>", UNREADABLE)


def _shown_with_replacements(text: str) -> str:
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


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
