"""Batched enrichment: each distinct text once, large batches spread over all cores.

DuckDB hands the ``voc_enrich`` UDF one Arrow batch at a time (about 2,048 rows). Two things
make a batch cheaper than 2,048 separate calls:

- **distinct texts once**: feedback repeats itself ("好评", "默认好评", the same ticket
  subject); the batch is reduced to its distinct texts and the results are fanned back out,
  and a bounded LRU (``NlpConfig.cache_size`` rows, default 50,000, ``0`` = off) remembers
  results across batches. Enrichment is a pure function of (text, taxonomy), so a cached row
  is exactly what recomputing would give.
- **all cores**: the enrichment is pure Python and holds the GIL, so threads would not help.
  A batch with at least ``PARALLEL_MIN_TEXTS`` distinct texts is split into one part per
  core: the calling process enriches the first part itself while worker subprocesses
  (``nlp_udfs.worker``, started on first use and kept for later batches) enrich the others.
  ``NlpConfig.workers`` sets the number of processes (default: the CPU count; ``1`` = none).

Results are plain tuples in ``ENRICH_FIELDS`` order (cheap to send between processes).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from .config import DEFAULT_CACHE_SIZE, current  # noqa: F401 - DEFAULT_CACHE_SIZE re-exported
from .local import (  # noqa: F401 - re-exported
    ANALYSE,
    EMPTY_ROW,
    ENRICH,
    TAG,
    TERMS,
    _taxonomy_cache,
    _taxonomy_cache_lock,
    cyclic_gc_paused,
    enrich_rows_local,
    run_local,
    taxonomy_from_json_cached,
)
from .local import (
    taxonomy_key as _taxonomy_key,
)
from .worker import read_frame, write_frame

PARALLEL_MIN_TEXTS = 256
HANDLE_PREFIX = "voc-taxonomy:"
ANALYSIS_VERSION_PREFIX = "voc-analysis:"
TERMS_VERSION_PREFIX = "voc-terms:"

_registered_documents: dict[str, str] = {}  # handle -> taxonomy JSON (a handful per process)
_workers: list[Worker] = []
_workers_lock = threading.Lock()
_split_batch_lock = threading.Lock()


# What decides an enrichment result besides the text and the taxonomy: the code, lexicons and
# models of this package. Plumbing that only moves texts, results and settings around is left
# out, so changing it does not re-enrich all history. (The settings that do change results, the
# segmenter, is hashed by name; see enrichment_fingerprint.)
_FINGERPRINT_EXCLUDED = {
    "__init__.py", "config.py", "dbt_plugin.py", "duckdb_functions.py", "local.py",
    "parallel.py", "patterns.py", "progress.py", "worker.py",
}


@lru_cache(maxsize=1)
def enrichment_fingerprint() -> str:
    """Hash of the files that decide an enrichment result and the segmentation backend.

    Part of every taxonomy handle: after an upgrade of the lexicons or the model, incremental
    models see a new version and re-enrich all history, as they do after a taxonomy edit.
    """
    from .segmentation import backend_name

    return fingerprint_of_package(Path(__file__).parent, backend_name())


def fingerprint_of_package(package: Path, segmenter: str) -> str:
    """``enrichment_fingerprint`` of a copy of this package at ``package`` with ``segmenter``."""
    files = [path for path in sorted(package.glob("*.py")) if path.name not in _FINGERPRINT_EXCLUDED]
    files += sorted((package / "lexicons").glob("*.txt")) + sorted((package / "models").glob("*"))
    digest = hashlib.blake2b(segmenter.encode(), digest_size=16)
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def taxonomy_handle(taxonomy_json: str) -> str:
    """A short name for a taxonomy document (``voc-taxonomy:<BLAKE2 hash>``) that ``voc_enrich``
    accepts in place of the document once ``register_taxonomy`` has seen it.

    DuckDB repeats a scalar-subquery value on every row it hands a UDF, so passing the ~12 KB
    document per row cost more than the enrichment of short texts; the handle is 45 bytes. It
    also names the enrichment version (taxonomy + ``enrichment_fingerprint``), so an
    incremental model can tell which rows were enriched under another one.
    """
    digest = hashlib.blake2b(taxonomy_json.encode("utf-8"), digest_size=16)
    digest.update(enrichment_fingerprint().encode())
    return HANDLE_PREFIX + digest.hexdigest()


def analysis_version() -> str:
    """Version of the text analysis (``enrich.analyse``): the NLP code, lexicons, models and
    segmenter (``enrichment_fingerprint``), no taxonomy. A taxonomy edit leaves it unchanged."""
    return ANALYSIS_VERSION_PREFIX + enrichment_fingerprint()


def terms_version(taxonomy_json: str | None) -> str:
    """Version of the hot terms: ``enrichment_fingerprint`` and the taxonomy's user words, which
    jieba's dictionary holds (in sorted order). An edit of vetoes, flags or tag names keeps it;
    a keyword that adds or drops a user word changes it."""
    taxonomy = taxonomy_from_json_cached(taxonomy_json)
    words = sorted(taxonomy.user_words()) if taxonomy is not None else []
    digest = hashlib.blake2b("\n".join(words).encode("utf-8"), digest_size=16)
    digest.update(enrichment_fingerprint().encode())
    return TERMS_VERSION_PREFIX + digest.hexdigest()


def register_taxonomy(taxonomy_json: str | None) -> str | None:
    """Parse and remember a taxonomy document in this process; returns its handle."""
    if taxonomy_json is None:
        return None
    taxonomy_from_json_cached(taxonomy_json)  # invalid JSON fails here, at registration
    handle = taxonomy_handle(taxonomy_json)
    with _taxonomy_cache_lock:
        _registered_documents[handle] = taxonomy_json
    return handle


def resolve_taxonomy_argument(value: str | None) -> str | None:
    """The taxonomy document behind a ``voc_enrich`` argument: a handle or the document itself."""
    if value is None or not value.startswith(HANDLE_PREFIX):
        return value
    with _taxonomy_cache_lock:
        document = _registered_documents.get(value)
    if document is None:
        raise KeyError(
            f"unknown taxonomy handle {value!r}: voc_taxonomy_handle(<taxonomy json>) must run in the same process first"
        )
    return document


def worker_count() -> int:
    """Processes to use for a large batch (``NlpConfig.workers``, default the CPU count)."""
    configured = current().workers
    if configured is not None:
        return max(1, configured)
    return max(1, os.cpu_count() or 1)


class Worker:
    """One ``python -m nlp_udfs.worker`` subprocess, used by one split batch at a time
    (``_split_batch_lock``). Its first frame is this process's ``NlpConfig``."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nlp_udfs.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        write_frame(self.process.stdin, current().as_dict())

    def send(self, operation: str, items: list[Any], taxonomy_json: str | None) -> None:
        write_frame(self.process.stdin, (operation, items, taxonomy_json))

    def receive(self) -> tuple[list[tuple], float]:
        """(rows, seconds the worker spent enriching them)."""
        status, value = read_frame(self.process.stdout)
        if status != "ok":
            raise RuntimeError(f"nlp_udfs worker failed: {value}")
        return value

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


def _get_workers(count: int) -> list[Worker]:
    """``count`` running workers (started on first use, replaced when one died)."""
    with _workers_lock:
        _workers[:] = [worker for worker in _workers if worker.alive()]
        while len(_workers) < count:
            _workers.append(Worker())
        return list(_workers[:count])


@atexit.register
def shutdown_pool() -> None:
    """Stop the worker processes (also run at interpreter exit)."""
    with _workers_lock:
        workers = list(_workers)
        _workers.clear()
    for worker in workers:
        worker.stop()


def _split(items: list[Any], parts: int, local_share: float) -> list[list[Any]]:
    """``parts`` slices: the first (done in this process) holds ``local_share`` of the items,
    the others share the rest evenly."""
    local = min(len(items), round(len(items) * local_share))
    size = -(-(len(items) - local) // (parts - 1)) if parts > 1 else 0
    slices = [items[:local]]
    slices += [items[start:start + size] for start in range(local, len(items), size)] if size else []
    return slices + [[] for _ in range(parts - len(slices))]


class ShareBalancer:
    """The share of a batch this process enriches itself, so that it and the workers finish
    together.

    This process also converts Arrow, consults the result cache and (un)pickles, so an equal
    split left the workers idle at the end of every batch. Each side's measured rate (texts per
    second of enrichment; workers report theirs) sets the next split, smoothed.
    """

    SMOOTHING = 0.3
    BOUNDS = (0.05, 0.95)

    def __init__(self) -> None:
        self._share: float | None = None
        self._lock = threading.Lock()

    def share(self, processes: int) -> float:
        with self._lock:
            return self._share if self._share is not None else 1.0 / processes

    def observe(self, local_rate: float | None, worker_rates: list[float]) -> None:
        if not local_rate or not worker_rates or not all(worker_rates):
            return
        balanced = local_rate / (local_rate + sum(worker_rates))
        low, high = self.BOUNDS
        with self._lock:
            previous = self._share if self._share is not None else balanced
            self._share = min(high, max(low, previous + self.SMOOTHING * (balanced - previous)))


share_balancer = ShareBalancer()
# one balancer per operation: tagging analysed clauses costs far less per item than enriching
share_balancers: dict[str, ShareBalancer] = {ENRICH: share_balancer}


def _run_distinct(operation: str, items: list[Any], taxonomy_json: str | None) -> list[Any]:
    processes = worker_count()
    if processes <= 1 or len(items) < PARALLEL_MIN_TEXTS:
        return run_local(operation, items, taxonomy_json)
    # DuckDB calls the UDF from one thread per row group. Split batches go one at a time, so the
    # workers belong to one batch: letting a second thread in meant enriching its batch in this
    # process, under the same GIL as the first batch's share, while the workers sat idle after.
    with _split_batch_lock:
        return _run_split(operation, items, taxonomy_json, processes)


def _enrich_distinct(texts: list[str | None], taxonomy_json: str | None) -> list[tuple]:
    return _run_distinct(ENRICH, texts, taxonomy_json)


def _run_split(operation: str, items: list[Any], taxonomy_json: str | None, processes: int) -> list[Any]:
    balancer = share_balancers.setdefault(operation, ShareBalancer())
    parts = _split(items, processes, balancer.share(processes))
    sent: list[tuple[Worker, int]] = []
    for worker, index in zip(_get_workers(processes - 1), range(1, len(parts))):
        if not parts[index]:
            continue
        try:
            worker.send(operation, parts[index], taxonomy_json)
            sent.append((worker, index))
        except OSError:
            worker.stop()  # a dead worker: its part is done here, a new one starts next time
    remote = {index for _, index in sent}
    started = time.perf_counter()
    rows_by_part = {index: run_local(operation, part, taxonomy_json)
                    for index, part in enumerate(parts) if index not in remote}
    local_seconds = time.perf_counter() - started
    worker_rates = []
    for worker, index in sent:
        try:
            rows_by_part[index], seconds = worker.receive()
            worker_rates.append(len(parts[index]) / seconds if seconds > 0 else 0.0)
        except (EOFError, OSError):
            worker.stop()
            rows_by_part[index] = run_local(operation, parts[index], taxonomy_json)
    if len(remote) == processes - 1 and parts[0] and local_seconds > 0:
        balancer.observe(len(parts[0]) / local_seconds, worker_rates)
    return [row for index in range(len(parts)) for row in rows_by_part[index]]


class ResultCache:
    """Bounded LRU of enrichment rows keyed by (taxonomy hash, text), shared by all batches.

    Batches are only ~2,048 rows, so repeats across batches ("好评" in every batch) are
    only caught here. Bounded, so memory stays flat however large the table.
    """

    def __init__(self, size: int | None = None):
        self._size = size
        self._rows: OrderedDict[tuple[str, str | None], tuple] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """The fixed size given, else ``NlpConfig.cache_size`` of this process."""
        return current().cache_size if self._size is None else self._size

    def get_many(self, key: str, texts: list[str | None]) -> list[tuple | None]:
        if not self.size:
            return [None] * len(texts)
        with self._lock:
            found = []
            for text in texts:
                row = self._rows.get((key, text))
                if row is not None:
                    self._rows.move_to_end((key, text))
                found.append(row)
            return found

    def put_many(self, key: str, texts: list[str | None], rows: list[tuple]) -> None:
        if not self.size:
            return
        with self._lock:
            for text, row in zip(texts, rows):
                self._rows[(key, text)] = row
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


result_cache = ResultCache()


def _cached_distinct(operation: str, texts: Sequence[str | None], taxonomy_json: str | None) -> list[Any]:
    """One result per text of ``operation``; each distinct text is computed once (and not at
    all when ``result_cache`` already holds it for this operation and taxonomy)."""
    index_of: dict[str | None, int] = {}
    positions = [index_of.setdefault(text, len(index_of)) for text in texts]
    distinct = list(index_of)
    key = operation + ":" + _taxonomy_key(taxonomy_json)
    distinct_rows = result_cache.get_many(key, distinct)
    missing = [index for index, row in enumerate(distinct_rows) if row is None]
    if missing:
        missing_texts = [distinct[index] for index in missing]
        computed = _run_distinct(operation, missing_texts, taxonomy_json)
        for index, row in zip(missing, computed):
            distinct_rows[index] = row
        result_cache.put_many(key, missing_texts, computed)
    return [distinct_rows[position] for position in positions]


def enrich_rows(texts: Sequence[str | None], taxonomy_json: str | None) -> list[tuple]:
    """One ``ENRICH_FIELDS`` tuple per text; each distinct text is enriched once (and not at
    all when ``result_cache`` already holds it for this taxonomy)."""
    return _cached_distinct(ENRICH, texts, taxonomy_json)


def analyse_rows(texts: Sequence[str | None]) -> list[tuple]:
    """One ``ANALYSIS_FIELDS`` tuple per text (``enrich.analyse``), each distinct text once."""
    return _cached_distinct(ANALYSE, texts, None)


def tag_rows(items: Sequence[tuple | None], taxonomy_json: str | None) -> list[tuple]:
    """(tags, primary tag, evidence) per (clauses, text score) item. Items come one per distinct
    text (the analysis is keyed by text), so there is nothing to deduplicate or cache."""
    return _run_distinct(TAG, list(items), taxonomy_json)


def terms_rows(texts: Sequence[str | None], taxonomy_json: str | None) -> list[list[str]]:
    """Hot terms per analysis text under the taxonomy's user dictionary, each distinct text once."""
    return _cached_distinct(TERMS, texts, taxonomy_json)
