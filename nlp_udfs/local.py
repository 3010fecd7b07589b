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

from .enrich import ENRICH_FIELDS, analyse, empty_result, enrich, extract_terms, tag_analysis
from .taxonomy import Taxonomy

_TAXONOMY_CACHE_SIZE = 16

_taxonomy_cache: OrderedDict[str, Taxonomy] = OrderedDict()
_taxonomy_cache_lock = threading.Lock()
EMPTY_ROW = tuple(empty_result()[name] for name in ENRICH_FIELDS)
EMPTY_ANALYSIS = ("", "", 0.0, "neutral", [], "[]", ())
EMPTY_TAGS = ([], None, "[]")

# The operations a batch can ask for (nlp_udfs.parallel sends the same names to its workers).
ENRICH, ANALYSE, TAG, TERMS = "enrich", "analyse", "tag", "terms"


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


def analyse_rows_local(texts: Sequence[str | None]) -> list[tuple]:
    """``enrich.analyse`` of each text (``ANALYSIS_FIELDS`` tuples); no taxonomy is involved."""
    with cyclic_gc_paused():
        return [EMPTY_ANALYSIS if text is None else analyse(text) for text in texts]


def tag_rows_local(items: Sequence[tuple | None], taxonomy_json: str | None) -> list[tuple]:
    """(tags, primary tag, evidence) of each (clauses, text score) item under the taxonomy."""
    taxonomy = taxonomy_from_json_cached(taxonomy_json)
    with cyclic_gc_paused():
        return [EMPTY_TAGS if item is None else tag_analysis(item[0], item[1], taxonomy) for item in items]


def terms_rows_local(texts: Sequence[str | None], taxonomy_json: str | None) -> list[list[str]]:
    """Hot terms of each analysis text, segmented with the taxonomy's keywords as user words."""
    taxonomy = taxonomy_from_json_cached(taxonomy_json)
    with cyclic_gc_paused():
        return [extract_terms(text, taxonomy) for text in texts]


def run_local(operation: str, items: Sequence, taxonomy_json: str | None) -> list:
    """One of the operations above on a batch, in this process."""
    if operation == ENRICH:
        return enrich_rows_local(items, taxonomy_json)
    if operation == ANALYSE:
        return analyse_rows_local(items)
    if operation == TAG:
        return tag_rows_local(items, taxonomy_json)
    if operation == TERMS:
        return terms_rows_local(items, taxonomy_json)
    raise ValueError(f"unknown nlp operation {operation!r}")
