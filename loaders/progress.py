"""Progress of a long load that a person can follow: rows done, rate and time left.

The file loader knows up front how many bytes of landing files it is going to read (the files
it has not loaded yet) and, as it goes, how many of them it has read. :class:`LoadProgress`
turns that into a log line every few seconds through the loader's logger, which reaches the
Dagster run logs and the ``voc run`` terminal::

    tickets: 120,000 rows read (41,500 rows/s), 38% of 96.0 MiB, about 9 s left

Nothing is logged for a load that ends before the first interval.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

PROGRESS_INTERVAL_SECONDS = 5.0
_MIB = 1024 * 1024


class LoadProgress:
    """Counts the rows and bytes of one family's load and logs its progress every ``interval``."""

    def __init__(
        self,
        label: str,
        total_bytes: int,
        logger: logging.Logger,
        interval: float = PROGRESS_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total_bytes = total_bytes
        self._log = logger
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._next = self._started + interval
        self.rows = 0
        self._finished_bytes = 0
        self.lines: list[str] = []

    def update(self, rows: int, file_bytes: int) -> None:
        """``rows`` more rows read; ``file_bytes`` read so far of the file being read."""
        self.rows += rows
        now = self._clock()
        if now >= self._next:
            self._next = now + self._interval
            self._report(now, self._finished_bytes + file_bytes)

    def file_done(self, size: int) -> None:
        self._finished_bytes += size

    def _report(self, now: float, bytes_done: int) -> None:
        elapsed = max(now - self._started, 1e-9)
        rate = self.rows / elapsed
        share = min(bytes_done / self.total_bytes, 1.0) if self.total_bytes else 1.0
        if share > 0:
            left = f"about {elapsed * (1 - share) / share:,.0f} s left"
        else:
            left = "time left unknown"
        line = (
            f"{self.label}: {self.rows:,} rows read ({rate:,.0f} rows/s), "
            f"{share:.0%} of {self.total_bytes / _MIB:,.1f} MiB, {left}"
        )
        self.lines.append(line)
        self._log.info(line)
