"""Validating and protecting a large file's lines on every core.

Reading a landing file is one stream, but what each line costs after that (parsing its JSON,
validating it against the contract, pseudonymizing its identifiers and masking its text:
``loaders.validation`` and ``loaders.privacy``) depends on that line alone. For a file of at least
:data:`PARALLEL_MIN_BYTES` the loader hands chunks of lines to a pool of worker processes and
takes their results back in line order, so the records, quarantine rows and counts are exactly
those of the serial path (``tests/test_parallel_load.py`` compares the raw tables). Smaller files,
a night's increment for instance, are classified in the loading process: a pool's start-up
would cost more than it saves.

The workers are forked from the loading process, so they inherit the record guard (the keyed
pseudonym function and the masker, with the masker's models already loaded) without it being
pickled or sent anywhere; only lines go out and validated, protected records come back.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

from loaders.files.readers import (
    INVALID_JSON,
    INVALID_UTF8,
    MALFORMED_ROW,
    UNPARSED,
    UNREADABLE,
    Line,
    parse_json_line,
)
from loaders.validation import Rejected

PARALLEL_MIN_BYTES = 2 * 1024 * 1024
"""Files from this size on are classified by a pool of worker processes."""
LINES_PER_TASK = 1000
"""Lines per chunk sent to a worker: large enough that the hand-over costs little per line."""

Classified = tuple[int, "dict[str, Any] | Rejected", "str | None"]
"""``(line number, validated and protected record or why it is rejected, protected raw text
of a rejected line)``."""
Validate = Callable[[Any], Any]
Protect = Callable[[str], str]

_MARKER_CODES = {id(INVALID_JSON): "invalid_json", id(INVALID_UTF8): "invalid_utf8",
                 id(MALFORMED_ROW): "malformed", id(UNREADABLE): "unreadable", id(UNPARSED): "unparsed"}
_MARKERS = {"invalid_json": INVALID_JSON, "invalid_utf8": INVALID_UTF8, "malformed": MALFORMED_ROW,
            "unreadable": UNREADABLE}

_WARM_UP_TEXT = "我叫王小明，电话 13800138000"
"""Masked (and thrown away) before forking: it makes the masker load its models."""

# what the forked workers run: set in the loading process just before its pool forks
_job: tuple[Validate, Protect] | None = None


def classify_line(line: Line, validate: Validate) -> dict | Rejected:
    """The validated record, or why the line goes to quarantine (reader markers first)."""
    if line.value is UNPARSED:
        line = Line(line.number, line.raw, parse_json_line(line.raw))
    if line.value is INVALID_JSON:
        return Rejected("invalid_json")
    if line.value is INVALID_UTF8:
        return Rejected("invalid_utf8")
    if line.value is MALFORMED_ROW:
        return Rejected("malformed_csv_row")
    if line.value is UNREADABLE:
        return Rejected("unreadable_file")
    return validate(line.value)


def classify_serially(lines: Iterable[Line], validate: Validate, protect_quarantined: Protect) -> Iterator[Classified]:
    """Every line classified in this process, in order."""
    for line in lines:
        result = classify_line(line, validate)
        yield line.number, result, protect_quarantined(line.raw) if isinstance(result, Rejected) else None


def default_workers() -> int:
    """Worker processes for a large file: one per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def classify_in_pool(
    lines: Iterable[Line], validate: Validate, protect_quarantined: Protect, workers: int
) -> Iterator[Classified]:
    """Every line classified by ``workers`` forked processes, yielded in line order.

    At most two chunks per worker are in flight, so a large file is never held in memory whole.
    """
    global _job
    # masking loads its models on first use: load them once here, so the forks inherit them
    protect_quarantined(_WARM_UP_TEXT)
    _job = (validate, protect_quarantined)
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    pending: deque[Future[list[Classified]]] = deque()
    try:
        for chunk in _chunks(lines, LINES_PER_TASK):
            pending.append(executor.submit(_classify_chunk, [_encoded(line) for line in chunk]))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        _job = None


def _chunks(lines: Iterable[Line], size: int) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _encoded(line: Line) -> tuple[int, str, Any, str | None]:
    """A line as it can cross to another process: the reader's markers by name, not identity."""
    code = _MARKER_CODES.get(id(line.value))
    return line.number, line.raw, None if code else line.value, code


def _classify_chunk(encoded: list[tuple[int, str, Any, str | None]]) -> list[Classified]:
    """In a worker: classify one chunk with the job the loading process set before forking."""
    assert _job is not None, "the pool was not forked from a loading process"
    validate, protect_quarantined = _job
    lines = []
    for number, raw, value, code in encoded:
        if code == "unparsed":
            value = UNPARSED
        elif code is not None:
            value = _MARKERS[code]
        lines.append(Line(number, raw, value))
    return list(classify_serially(lines, validate, protect_quarantined))
