"""Streaming, deterministic writers for dated landing files (JSONL, JSONL.gz, CSV).

A source writes into `<landing>/<source>/<source>_<key>_p<NN>.<ext>` where key is usually the
local month of the record's version time, so a newer version of a record always lands in the
same or a later file (file names sort chronologically). Files roll over after `max_records`.
Which file is gzipped, escapes non-ASCII, has a BOM or ends with blank lines follows from the
file's ordinal, so the output is byte-identical for the same inputs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

FLUSH_EVERY = 512


@dataclass
class _OpenFile:
    relpath: str
    raw: object
    stream: object
    ensure_ascii: bool
    bom: bool
    ordinal: int = 0
    lines: int = 0
    buffer: list = field(default_factory=list)
    csv_buffer: io.StringIO | None = None
    csv_writer: object | None = None


class LandingFiles:
    """Dated files of one source. `write` returns (relative path, 1-based line or CSV row number)."""

    def __init__(self, landing: Path, source: str, *, max_records: int, fmt: str = "jsonl",
                 gzip_every: int = 3, ascii_every: int = 0, csv_columns: tuple[str, ...] = (), name: str | None = None):
        self.landing = landing
        self.source = source
        self.name = name or source
        self.max_records = max_records
        self.fmt = fmt
        self.gzip_every = gzip_every
        self.ascii_every = ascii_every
        self.csv_columns = csv_columns
        self._open: dict[str, tuple[int, _OpenFile]] = {}
        self._ordinal = 0
        self.files: list[str] = []
        (landing / source).mkdir(parents=True, exist_ok=True)

    def write(self, key: str, record) -> tuple[str, int]:
        """Append a record (dict, or a pre-made raw line string / CSV row list for bad records)."""
        part, handle = self._open.get(key, (0, None))
        if handle is None or handle.lines >= self.max_records:
            if handle is not None:
                self._close(handle)
            part += 1
            handle = self._new_file(key, part)
            self._open[key] = (part, handle)
        handle.lines += 1
        if self.fmt == "csv":
            row = record if isinstance(record, list) else [_csv_cell(record.get(c)) for c in self.csv_columns]
            handle.csv_writer.writerow(row)
            if handle.lines % FLUSH_EVERY == 0:
                self._flush_csv(handle)
        else:
            line = record if isinstance(record, str) else json.dumps(record, ensure_ascii=handle.ensure_ascii)
            handle.buffer.append(line)
            if len(handle.buffer) >= FLUSH_EVERY:
                self._flush_jsonl(handle)
        return handle.relpath, handle.lines

    def _new_file(self, key: str, part: int) -> _OpenFile:
        ordinal = self._ordinal
        self._ordinal += 1
        gz = self.fmt == "jsonl" and self.gzip_every and ordinal % self.gzip_every == 1
        extension = "csv" if self.fmt == "csv" else "jsonl.gz" if gz else "jsonl"
        relpath = f"{self.source}/{self.name}_{key}_p{part:02d}.{extension}"
        raw = open(self.landing / relpath, "wb")
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) if gz else raw
        handle = _OpenFile(relpath, raw, stream, ensure_ascii=bool(self.ascii_every and ordinal % self.ascii_every == 2),
                           bom=self.fmt == "csv" and ordinal % 3 != 2, ordinal=ordinal)
        if self.fmt == "csv":
            if handle.bom:
                stream.write(b"\xef\xbb\xbf")
            handle.csv_buffer = io.StringIO(newline="")
            handle.csv_writer = csv.writer(handle.csv_buffer, lineterminator="\r\n")
            handle.csv_writer.writerow(self.csv_columns)
        self.files.append(relpath)
        return handle

    def _flush_jsonl(self, handle: _OpenFile) -> None:
        if handle.buffer:
            handle.stream.write(("\n".join(handle.buffer) + "\n").encode("utf-8"))
            handle.buffer.clear()

    def _flush_csv(self, handle: _OpenFile) -> None:
        handle.stream.write(handle.csv_buffer.getvalue().encode("utf-8"))
        handle.csv_buffer.seek(0)
        handle.csv_buffer.truncate(0)

    def _close(self, handle: _OpenFile) -> None:
        if self.fmt == "csv":
            self._flush_csv(handle)
        else:
            self._flush_jsonl(handle)
            if handle.ordinal % 5 == 3:
                # blank and whitespace-only lines: loaders must skip them without counting
                handle.stream.write(b"\n   \n")
        if handle.stream is not handle.raw:
            handle.stream.close()
        handle.raw.close()

    def close(self) -> list[str]:
        """Close every open file; return all relative paths written, in creation order."""
        for _, handle in self._open.values():
            self._close(handle)
        self._open.clear()
        return self.files


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
