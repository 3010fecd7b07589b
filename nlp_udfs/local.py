"""Enrichment of a batch in this process, and the parsed-taxonomy cache it shares.

Used by ``nlp_udfs.parallel`` (the part of a batch the calling process enriches) and by
``nlp_udfs.worker`` (the parts sent to worker subprocesses); neither imports the other.
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import contextmanager

from .enrich import ENRICH_FIELDS, empty_result, enrich
from .taxonomy import Taxonomy

_TAXONOMY_CACHE_SIZE = 16

_taxonomy_cache: OrderedDict[str, Taxonomy] = OrderedDict()
_taxonomy_cache_lock = threading.Lock()
EMPTY_ROW = tuple(empty_result()[name] for name in ENRICH_FIELDS)


def taxonomy_key(taxonomy_json: str | None) -> str:
    """The BLAKE2 hash of a taxonomy document ('' for none)."""
    if taxonomy_json is None:
        return ""
    return hashlib.blake2b(taxonomy_json.encode("utf-8"), digest_size=16).hexdigest()


def taxonomy_from_json_cached(taxonomy_json: str | None) -> Taxonomy | None:
    """Parse a taxonomy JSON once per distinct value (keyed by its BLAKE2 hash)."""
    if taxonomy_json is None:
        return None
    key = taxonomy_key(taxonomy_json)
    with _taxonomy_cache_lock:
        cached = _taxonomy_cache.get(key)
        if cached is not None:
            _taxonomy_cache.move_to_end(key)
            return cached
    taxonomy = Taxonomy.from_json(taxonomy_json)
    with _taxonomy_cache_lock:
        _taxonomy_cache[key] = taxonomy
        while len(_taxonomy_cache) > _TAXONOMY_CACHE_SIZE:
            _taxonomy_cache.popitem(last=False)
    return taxonomy


@contextmanager
def cyclic_gc_paused():
    """Pause Python's cyclic garbage collector for the block, then restore its previous state.

    Enrichment allocates millions of short-lived strings, tuples, lists and dicts but builds no
    reference cycle, so reference counting frees all of it. Left running, the collector keeps
    starting full passes over every long-lived object, the memos and result cache included:
    pausing it per batch made the voc_enrich UDF 12-15% faster on 200k texts.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def enrich_rows_local(texts: Sequence[str | None], taxonomy_json: str | None) -> list[tuple]:
    """Enrich texts in this process; ``taxonomy_json`` None means no tags."""
    taxonomy = taxonomy_from_json_cached(taxonomy_json)
    rows = []
    with cyclic_gc_paused():
        for text in texts:
            if text is None:
                rows.append(EMPTY_ROW)
                continue
            result = enrich(text, taxonomy)
            rows.append(tuple(result[name] for name in ENRICH_FIELDS))
    return rows
