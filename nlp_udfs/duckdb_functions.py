"""Register the NLP functions as vectorised (Arrow) DuckDB UDFs.

Registered signatures:

- ``voc_enrich(text VARCHAR, taxonomy_json VARCHAR) -> STRUCT(text_clean VARCHAR,
  text_masked VARCHAR, sentiment_score DOUBLE, sentiment_label VARCHAR, tags VARCHAR[],
  primary_tag VARCHAR, tag_evidence VARCHAR, terms VARCHAR[])``
- ``voc_mask_pii(text VARCHAR) -> VARCHAR``
- ``voc_clean_text(text VARCHAR) -> VARCHAR`` (cleaning only, no masking)

NULL handling: NULL text gives empty outputs, never NULL (``''``; for ``voc_enrich``
score 0.0, label ``neutral``, ``tags = []``, ``primary_tag`` NULL, ``tag_evidence = '[]'``,
``terms = []``). A NULL ``taxonomy_json`` means "no taxonomy": text is enriched, no tags.

``taxonomy_json`` is meant to be a scalar subquery (the same value on every row); each
distinct value is parsed once and cached by its hash.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .enrich import empty_result, enrich
from .pii import mask_pii
from .taxonomy import Taxonomy
from .text_cleaning import clean_text

ENRICH_SQL_TYPE = (
    "STRUCT(text_clean VARCHAR, text_masked VARCHAR, sentiment_score DOUBLE, sentiment_label VARCHAR, "
    "tags VARCHAR[], primary_tag VARCHAR, tag_evidence VARCHAR, terms VARCHAR[], risks VARCHAR[], "
    "risk_evidence VARCHAR)"
)
ENRICH_ARROW_TYPE = pa.struct(
    [
        ("text_clean", pa.string()),
        ("text_masked", pa.string()),
        ("sentiment_score", pa.float64()),
        ("sentiment_label", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("primary_tag", pa.string()),
        ("tag_evidence", pa.string()),
        ("terms", pa.list_(pa.string())),
        ("risks", pa.list_(pa.string())),
        ("risk_evidence", pa.string()),
    ]
)
_TAXONOMY_CACHE_SIZE = 16
_taxonomy_cache: OrderedDict[str, Taxonomy] = OrderedDict()
_taxonomy_cache_lock = threading.Lock()


def taxonomy_from_json_cached(taxonomy_json: str | None) -> Taxonomy | None:
    """Parse a taxonomy JSON once per distinct value (keyed by its BLAKE2 hash)."""
    if taxonomy_json is None:
        return None
    key = hashlib.blake2b(taxonomy_json.encode("utf-8"), digest_size=16).hexdigest()
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


def _flat(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _taxonomies_per_row(taxonomy_json: pa.Array | pa.ChunkedArray) -> list[Taxonomy | None]:
    """One Taxonomy per row, parsing each distinct JSON value of the batch once."""
    encoded = pc.dictionary_encode(_flat(taxonomy_json))
    distinct = [taxonomy_from_json_cached(value) for value in encoded.dictionary.to_pylist()]
    return [None if index is None else distinct[index] for index in encoded.indices.to_pylist()]


def enrich_batch(texts: list[str | None], taxonomies: list[Taxonomy | None]) -> pa.StructArray:
    """Enrich a batch of texts into the Arrow struct array ``voc_enrich`` returns."""
    columns: dict[str, list[Any]] = {name: [] for name in ENRICH_ARROW_TYPE.names}
    empty = empty_result()
    no_taxonomy = Taxonomy(())
    for text, taxonomy in zip(texts, taxonomies):
        result = empty if text is None else enrich(text, taxonomy if taxonomy is not None else no_taxonomy)
        for name, values in columns.items():
            values.append(result[name])
    arrays = [pa.array(columns[field.name], type=field.type) for field in ENRICH_ARROW_TYPE]
    return pa.StructArray.from_arrays(arrays, fields=list(ENRICH_ARROW_TYPE))


def voc_enrich_arrow(text: pa.ChunkedArray, taxonomy_json: pa.ChunkedArray) -> pa.StructArray:
    return enrich_batch(_flat(text).to_pylist(), _taxonomies_per_row(taxonomy_json))


def voc_mask_pii_arrow(text: pa.ChunkedArray) -> pa.Array:
    return pa.array([mask_pii(value) for value in _flat(text).to_pylist()], type=pa.string())


def voc_clean_text_arrow(text: pa.ChunkedArray) -> pa.Array:
    return pa.array([clean_text(value) for value in _flat(text).to_pylist()], type=pa.string())


FUNCTIONS = (
    ("voc_enrich", voc_enrich_arrow, ["VARCHAR", "VARCHAR"], ENRICH_SQL_TYPE),
    ("voc_mask_pii", voc_mask_pii_arrow, ["VARCHAR"], "VARCHAR"),
    ("voc_clean_text", voc_clean_text_arrow, ["VARCHAR"], "VARCHAR"),
)


def _function_exists(conn: Any, name: str) -> bool:
    rows = conn.execute("select 1 from duckdb_functions() where function_name = ? limit 1", [name]).fetchall()
    return bool(rows)


def _create(conn: Any, name: str, function: Any, parameters: list[str], return_type: str) -> None:
    import duckdb

    def create() -> None:
        conn.create_function(
            name,
            function,
            parameters,
            duckdb.sqltype(return_type),
            type="arrow",
            null_handling="special",  # NULL text must give empty outputs, not NULL
            side_effects=False,
        )

    try:
        create()
    except duckdb.NotImplementedException:
        # Registered before on this very connection: replace it.
        conn.remove_function(name)
        create()
    except duckdb.CatalogException:
        # Registered through another cursor of the same database; it is visible here too.
        if not _function_exists(conn, name):
            raise


def register_functions(conn: Any) -> Any:
    """Register ``voc_enrich``, ``voc_mask_pii`` and ``voc_clean_text`` on a DuckDB connection.

    Safe to call more than once on the same connection. Returns ``conn``.
    """
    for name, function, parameters, return_type in FUNCTIONS:
        _create(conn, name, function, parameters, return_type)
    return conn
