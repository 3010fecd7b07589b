"""Progress of a long NLP step, for the person waiting on it: rows done, rate and time left.

The UDFs of the split enrichment (``voc_analyse``, ``voc_tag``, ``voc_terms``) take the number
of rows their statement will pass them and call ``advance`` after each batch. A step that ends
within ``REPORT_EVERY_SECONDS`` says nothing; a longer one reports every
``REPORT_EVERY_SECONDS`` and once when it is done. Messages go to ``set_sink``'s callable: the
dbt plugin hands them to dbt's logger (``AdapterLogger("voc_nlp")``), so they appear in dbt's
output and log file; without a sink they go to the ``nlp_udfs.progress`` logger. dagster-dbt reads
dbt's output as JSON events and keeps only the nodes' results, so the Dagster step picks the
progress messages out of that stream with :func:`progress_message`
(``orchestration.project.forward_nlp_progress``) and logs them in the run's log, which
``voc run`` prints too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

REPORT_EVERY_SECONDS = 10.0
# A statement that failed half-way leaves its tracker behind; a step not advanced for this long
# starts afresh.
STALE_SECONDS = 120.0

_logger = logging.getLogger("nlp_udfs.progress")
_lock = threading.Lock()
_sink: Callable[[str], None] = _logger.info
_clock: Callable[[], float] = time.monotonic


@dataclass
class _Tracker:
    total: int
    started: float  # when the first batch was done: the rate counts the rows after it
    first_rows: int
    done: int = 0
    last_seen: float = 0.0
    last_report: float = 0.0
    reported: bool = False


_trackers: dict[str, _Tracker] = {}

DBT_LOGGER_NAME = "voc_nlp"
"""The name the dbt plugin's ``AdapterLogger`` logs these messages under."""
_DBT_PREFIX = f"{DBT_LOGGER_NAME} adapter: "


def progress_message(dbt_event: object) -> str | None:
    """The progress message a dbt JSON log event carries (``--log-format json``), else None."""
    if not isinstance(dbt_event, dict):
        return None
    info, data = dbt_event.get("info") or {}, dbt_event.get("data") or {}
    if info.get("name") != "AdapterEventInfo" or data.get("name") != DBT_LOGGER_NAME:
        return None
    message = str(info.get("msg") or "")
    return message.removeprefix(_DBT_PREFIX) or None


def set_sink(sink: Callable[[str], None] | None, clock: Callable[[], float] | None = None) -> None:
    """Where progress messages go (None: the ``nlp_udfs.progress`` logger); ``clock`` for tests."""
    global _sink, _clock
    with _lock:
        _sink = sink if sink is not None else _logger.info
        _clock = clock if clock is not None else time.monotonic
        _trackers.clear()


def _seconds(value: float) -> str:
    value = max(0, round(value))
    if value < 60:
        return f"{value} s"
    minutes, seconds = divmod(value, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def advance(step: str, rows: int, total: int | None) -> None:
    """``rows`` more rows of ``step`` are done, out of ``total`` for its statement (None or 0:
    unknown, nothing is reported)."""
    if not total or total <= 0 or rows <= 0:
        return
    message = None
    with _lock:
        now = _clock()
        tracker = _trackers.get(step)
        if tracker is None or tracker.total != total or now - tracker.last_seen > STALE_SECONDS:
            tracker = _trackers[step] = _Tracker(total=total, started=now, first_rows=rows, last_report=now)
        tracker.done += rows
        tracker.last_seen = now
        elapsed = now - tracker.started
        rate = (tracker.done - tracker.first_rows) / elapsed if elapsed > 0 else 0.0
        if tracker.done >= tracker.total:
            del _trackers[step]
            if tracker.reported:
                took = elapsed + (tracker.first_rows / rate if rate > 0 else 0.0)  # the first batch too
                message = f"{step}: {tracker.done:,} rows done in {_seconds(took)} ({rate:,.0f} rows/s)"
        elif now - tracker.last_report >= REPORT_EVERY_SECONDS:
            tracker.last_report, tracker.reported = now, True
            left = (tracker.total - tracker.done) / rate if rate > 0 else 0.0
            message = (
                f"{step}: {tracker.done:,} of {tracker.total:,} rows ({tracker.done / tracker.total:.0%}), "
                f"{rate:,.0f} rows/s, about {_seconds(left)} left"
            )
        sink = _sink
    if message is not None:
        sink(message)
