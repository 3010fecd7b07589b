"""Reading landing files: discovering them, hashing them, and streaming their records.

``*.jsonl`` / ``*.jsonl.gz`` are read line by line, ``*.csv`` / ``*.csv.gz`` (UTF-8 with or without
BOM) row by row; both yield :class:`Line` s whose ``value`` is the parsed record, or one of the
markers ``INVALID_JSON``, ``INVALID_UTF8``, ``MALFORMED_ROW``, ``UNREADABLE`` for damage the
caller quarantines. A line or row holding bytes that are not UTF-8 is ``INVALID_UTF8`` in both
formats, and its ``raw`` text shows those bytes as ``\\xNN`` escapes: nothing read here ever
carries a U+FFFD replacement character into the warehouse.
Files are found by :func:`scan_files`, which reads only from inside the landing folder.
Nothing here validates records or knows about dlt.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

INVALID_JSON = object()
INVALID_UTF8 = object()
MALFORMED_ROW = object()
UNREADABLE = object()
UNPARSED = object()
"""``read_jsonl_lines(parse=False)``: a decoded line whose JSON is still to be parsed."""
_UNDECODABLE_BYTE = re.compile("[\udc80-\udcff]")
"""What ``surrogateescape`` decodes a byte that is not UTF-8 to."""
_READ_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile)


@dataclass
class Line:
    """One physical record of a file: 1-based start line, the text as read, the parsed value."""

    number: int
    raw: str
    value: Any


class ByteCounter:
    """How many bytes of the file (compressed bytes, for ``.gz``) a reader has taken so far."""

    def __init__(self) -> None:
        self.bytes = 0


class _CountingFileIO(io.FileIO):
    def __init__(self, path: Path, counter: ByteCounter) -> None:
        super().__init__(path, "rb")
        self._counter = counter

    def readinto(self, buffer: Any) -> int | None:  # what io.BufferedReader reads through
        count = super().readinto(buffer)
        self._counter.bytes += count or 0
        return count


@contextmanager
def _open_binary(path: Path, counter: ByteCounter | None) -> Iterator[Any]:
    """The file's bytes (decompressed for ``.gz``), counting what is read from disk."""
    with io.BufferedReader(_CountingFileIO(path, counter or ByteCounter())) as raw:
        if path.name.lower().endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="rb") as handle:
                yield handle
        else:
            yield raw


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_line(text: str) -> Any:
    """The JSON value of one decoded line, or ``INVALID_JSON``."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return INVALID_JSON


def read_jsonl_lines(path: Path, counter: ByteCounter | None = None, parse: bool = True) -> Iterator[Line]:
    """Yield the non-blank lines of a ``.jsonl`` / ``.jsonl.gz`` file, parsed, one at a time.

    Undecodable or unparsable lines come back with ``value`` set to a marker so the caller
    quarantines them (undecodable bytes shown as ``\\xNN``); a truncated gzip ends the file with
    one ``unreadable`` line. ``counter`` follows the bytes read from disk. With ``parse=False`` a
    decoded line comes back with ``value`` set to ``UNPARSED``, for the caller to hand its text
    to :func:`parse_json_line` (in another process: ``loaders.files.parallel``).
    """
    number = 0
    try:
        with _open_binary(path, counter) as handle:
            for number, raw_bytes in enumerate(handle, start=1):
                if number == 1 and raw_bytes.startswith(b"\xef\xbb\xbf"):
                    raw_bytes = raw_bytes[3:]
                if not raw_bytes.strip():
                    continue
                raw_bytes = raw_bytes.rstrip(b"\r\n")
                try:
                    text = raw_bytes.decode("utf-8")
                except UnicodeDecodeError:
                    yield Line(number, raw_bytes.decode("utf-8", "backslashreplace"), INVALID_UTF8)
                    continue
                yield Line(number, text, parse_json_line(text) if parse else UNPARSED)
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


def read_csv_rows(path: Path, counter: ByteCounter | None = None) -> Iterator[Line]:
    """Yield the non-blank data rows of a CSV file as dicts keyed by the (stripped) header.

    ``number`` is the physical line where the row starts (the header is line 1), ``raw`` the
    row's original text. Rows with a different cell count than the header come back marked
    malformed (trailing empty cells are tolerated); rows holding bytes that are not UTF-8 come
    back marked ``INVALID_UTF8`` with those bytes shown as ``\\xNN`` in ``raw``. When the header
    itself holds such bytes, no column name can be trusted and every data row is
    ``INVALID_UTF8``. ``counter`` follows the bytes read from disk.
    """
    last_line = 0
    try:
        # surrogateescape keeps undecodable bytes recognisable (U+DC80..U+DCFF) instead of
        # silently replacing them, so the row they are in can be quarantined
        with _open_binary(path, counter) as binary, io.TextIOWrapper(
            binary, encoding="utf-8-sig", errors="surrogateescape", newline=""
        ) as handle:
            tap = _LineTap(handle)
            reader = csv.reader(tap)
            header: list[str] | None = None
            header_undecodable = False
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error:
                    number, raw = tap.take_row()
                    marker = INVALID_UTF8 if _UNDECODABLE_BYTE.search(raw) else MALFORMED_ROW
                    yield Line(number, _shown_escaped(raw), marker)
                    continue
                number, raw = tap.take_row()
                last_line = tap.lines_read
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [name.strip() for name in row]
                    header_undecodable = bool(_UNDECODABLE_BYTE.search(raw))
                    continue
                if header_undecodable or _UNDECODABLE_BYTE.search(raw):
                    yield Line(number, _shown_escaped(raw), INVALID_UTF8)
                    continue
                while len(row) > len(header) and not row[-1].strip():
                    row.pop()
                if len(row) != len(header):
                    yield Line(number, raw, MALFORMED_ROW)
                    continue
                yield Line(number, raw, dict(zip(header, row)))
    except _READ_ERRORS as exc:
        yield Line(last_line + 1, f"<unreadable after line {last_line}: {exc}>", UNREADABLE)


def _shown_escaped(text: str) -> str:
    """``surrogateescape`` text with its undecodable bytes shown as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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


SYMLINK_OUTSIDE_LANDING = "symlink_outside_landing"
"""Why a link in the landing folder was not read: its target resolves outside the folder."""


@dataclass(frozen=True)
class RefusedPath:
    """A path that discovery saw but will not read (the link itself, never its target)."""

    path: Path
    reason: str


@dataclass
class LandingScan:
    """What discovery found under one folder: files to read, and links it refused."""

    files: list[Path]
    refused: list[RefusedPath]


def is_inside(path: Path | str, root: Path | str) -> bool:
    """Whether ``path`` resolves (every link followed) to ``root`` or below it."""
    return _inside(path, os.path.realpath(root))


def _inside(path: Path | str, root_real: str) -> bool:
    """Whether ``path`` resolves (all links followed) to ``root_real`` or below it."""
    real = os.path.realpath(path)
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


def scan_files(folder: Path, accepts_name: Callable[[str], bool], *, root: Path) -> LandingScan:
    """Files under ``folder`` (recursively) whose name is accepted, sorted by relative path,
    and the symbolic links that were refused because they lead outside ``root``.

    ``root`` is the landing folder and ``folder`` one of its family folders. A link (to a file
    or a directory, the family folder itself included) is followed only when its target resolves
    inside ``root``; a link whose target leaves it is refused without being opened or listed
    (reason ``symlink_outside_landing``; a link to a file only when its name is accepted, so a
    stray ``README`` link is not reported). Every real directory is walked once, so a link loop
    ends. Hidden files and folders (``.part`` uploads, ``.DS_Store``) are ignored. Only names
    returned by the directory listing are joined, never a name from a record or a setting.
    """
    root_real = os.path.realpath(root)
    found: list[Path] = []
    refused: list[RefusedPath] = []
    if not _inside(folder, root_real):
        if os.path.lexists(folder):
            refused.append(RefusedPath(folder, SYMLINK_OUTSIDE_LANDING))
        return LandingScan(found, refused)
    visited: set[str] = set()

    def walk(directory: Path) -> None:
        real = os.path.realpath(directory)
        if real in visited:
            return
        visited.add(real)
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = directory / entry.name
            try:
                is_link = entry.is_symlink()
                if is_link and not _inside(path, root_real):
                    if accepts_name(entry.name) or os.path.isdir(path):
                        refused.append(RefusedPath(path, SYMLINK_OUTSIDE_LANDING))
                    continue
                if entry.is_dir():
                    walk(path)
                elif entry.is_file() and accepts_name(entry.name):
                    found.append(path)
            except OSError:
                continue

    if folder.is_dir():
        walk(folder)
    return LandingScan(
        sorted(found, key=lambda p: p.relative_to(folder).as_posix()),
        sorted(refused, key=lambda r: r.path.as_posix()),
    )


def discover_files(folder: Path, accepts_name: Callable[[str], bool], *, root: Path) -> list[Path]:
    """The files :func:`scan_files` would read (links leaving ``root`` left out), sorted by
    relative path. The loaders and the landing sensor both list files through here."""
    return scan_files(folder, accepts_name, root=root).files
