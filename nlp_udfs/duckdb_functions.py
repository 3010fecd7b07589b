"""Register the NLP functions as vectorised (Arrow) DuckDB UDFs.

Registered signatures:

- ``voc_enrich(text VARCHAR, taxonomy_json VARCHAR) -> STRUCT(text_clean VARCHAR,
  text_masked VARCHAR, sentiment_score DOUBLE, sentiment_label VARCHAR, tags VARCHAR[],
  primary_tag VARCHAR, tag_evidence VARCHAR, terms VARCHAR[], risks VARCHAR[], risk_evidence VARCHAR)``
- ``voc_taxonomy_handle(taxonomy_json VARCHAR) -> VARCHAR``: parses and remembers a taxonomy
  document in this process and returns its short handle (``voc-taxonomy:<hash>``), which
  ``voc_enrich`` accepts in place of the document. dbt passes the handle: DuckDB copies a
  scalar-subquery value into every row of every chunk, and 12 KB per row cost more than the
  enrichment itself. The handle doubles as the taxonomy version of each enriched row.
- The same enrichment in three versioned parts (``nlp_udfs.enrich``), which the incremental
  models ``int_feedback__text_analysis``, ``__text_tags`` and ``__text_terms`` call, so a
  taxonomy edit re-tags history from the stored analysis instead of analysing every text again.
  ``total`` is the number of rows the statement passes (for progress messages, ``progress.py``;
  NULL = unknown):

  - ``voc_analyse(text VARCHAR, total BIGINT) -> ANALYSIS_SQL_TYPE``: cleaning, masking,
    sentiment, risks, and the clauses (text, start, raw score) that tagging needs;
  - ``voc_tag(clauses, sentiment_score DOUBLE, taxonomy VARCHAR, total BIGINT) ->
    STRUCT(tags VARCHAR[], primary_tag VARCHAR, tag_evidence VARCHAR)``;
  - ``voc_terms(text_clean VARCHAR, taxonomy VARCHAR, total BIGINT) -> VARCHAR[]``;
  - ``voc_analysis_version(kind VARCHAR) -> VARCHAR`` (the argument is ignored) and
    ``voc_terms_version(taxonomy VARCHAR) -> VARCHAR``: the versions of the analysis and of the
    terms; the version of the tags is the taxonomy handle.
- ``voc_regex_contains(text VARCHAR, pattern VARCHAR) -> BOOLEAN``: a regular expression taken
  from data, compiled once per distinct pattern (DuckDB compiles a non-literal pattern per row);
  NULL in, NULL out. The dbt macro ``regex_contains`` uses it on DuckDB.
- ``voc_mask_pii(text VARCHAR) -> VARCHAR``
- ``voc_mask_payload(raw_line VARCHAR) -> VARCHAR`` (quarantine samples: allow-listed keys only)
- ``voc_clean_text(text VARCHAR) -> VARCHAR`` (cleaning only, no masking)

NULL handling: NULL text gives empty outputs, never NULL (``''``; for ``voc_enrich``
score 0.0, label ``neutral``, ``tags = []``, ``primary_tag`` NULL, ``tag_evidence = '[]'``,
``terms = []``). A NULL ``taxonomy_json`` means "no taxonomy": text is enriched, no tags.

``taxonomy_json`` is meant to be a scalar subquery (the same value on every row); each
distinct value is parsed once and cached by its hash.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from . import progress
from .config import NlpConfig, configure
from .enrich import ENRICH_FIELDS
from .parallel import (  # noqa: F401 - taxonomy_from_json_cached, _taxonomy_cache re-exported
    _taxonomy_cache,
    analyse_rows,
    analysis_version,
    cyclic_gc_paused,
    enrich_rows,
    register_taxonomy,
    resolve_taxonomy_argument,
    tag_rows,
    taxonomy_from_json_cached,
    terms_rows,
    terms_version,
)
from .patterns import regex_contains_many
from .pii import mask_payload, mask_pii
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
CLAUSE_ARROW_TYPE = pa.struct([("text", pa.string()), ("start", pa.int32()), ("raw", pa.float64())])
ANALYSIS_SQL_TYPE = (
    "STRUCT(text_clean VARCHAR, text_masked VARCHAR, sentiment_score DOUBLE, sentiment_label VARCHAR, "
    "risks VARCHAR[], risk_evidence VARCHAR, clauses STRUCT(text VARCHAR, start INTEGER, raw DOUBLE)[])"
)
ANALYSIS_ARROW_TYPE = pa.struct(
    [
        ("text_clean", pa.string()),
        ("text_masked", pa.string()),
        ("sentiment_score", pa.float64()),
        ("sentiment_label", pa.string()),
        ("risks", pa.list_(pa.string())),
        ("risk_evidence", pa.string()),
        ("clauses", pa.list_(CLAUSE_ARROW_TYPE)),
    ]
)
CLAUSES_SQL_TYPE = "STRUCT(text VARCHAR, start INTEGER, raw DOUBLE)[]"
TAGS_SQL_TYPE = "STRUCT(tags VARCHAR[], primary_tag VARCHAR, tag_evidence VARCHAR)"
TAGS_ARROW_TYPE = pa.struct([("tags", pa.list_(pa.string())), ("primary_tag", pa.string()), ("tag_evidence", pa.string())])
# progress.advance step names
ANALYSIS_STEP, TAG_STEP, TERMS_STEP = "nlp text analysis", "nlp tag matching", "nlp hot terms"


def _flat(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def enrich_batch(texts: list[str | None], taxonomy_json: list[str | None]) -> pa.StructArray:
    """Enrich a batch of texts (one taxonomy JSON per row) into the struct ``voc_enrich`` returns.

    Rows are grouped by their taxonomy argument (in SQL it is a scalar subquery: one group);
    the argument is a taxonomy JSON document or a handle from ``voc_taxonomy_handle``.
    """
    rows: list[tuple | None] = [None] * len(texts)
    groups: dict[str | None, list[int]] = {}
    for index, value in enumerate(taxonomy_json):
        groups.setdefault(value, []).append(index)
    for value, indices in groups.items():
        document = resolve_taxonomy_argument(value)
        for index, row in zip(indices, enrich_rows([texts[i] for i in indices], document)):
            rows[index] = row
    columns = list(zip(*rows)) if rows else [()] * len(ENRICH_FIELDS)
    arrays = [pa.array(list(column), type=field.type) for column, field in zip(columns, ENRICH_ARROW_TYPE)]
    return pa.StructArray.from_arrays(arrays, fields=list(ENRICH_ARROW_TYPE))


def _repeated_strings_per_row(column: pa.Array | pa.ChunkedArray) -> list[str | None]:
    """The value of every row of a column that repeats a few distinct strings (the taxonomy
    argument, a regex pattern from a seed), one Python string per distinct value.

    Converting such a column row by row would build a copy per row (for a 12 KB taxonomy
    document, most of the UDF's overhead), so it is dictionary encoded in Arrow first.
    """
    encoded = pc.dictionary_encode(_flat(column))
    distinct = encoded.dictionary.to_pylist()
    return [None if index is None else distinct[index] for index in encoded.indices.to_pylist()]


def voc_enrich_arrow(text: pa.ChunkedArray, taxonomy_json: pa.ChunkedArray) -> pa.StructArray:
    return enrich_batch(_flat(text).to_pylist(), _repeated_strings_per_row(taxonomy_json))


def _struct_array(rows: list[tuple], struct_type: pa.StructType) -> pa.StructArray:
    columns = list(zip(*rows)) if rows else [()] * struct_type.num_fields
    arrays = [pa.array(list(column), type=field.type) for column, field in zip(columns, struct_type)]
    return pa.StructArray.from_arrays(arrays, fields=list(struct_type))


def _total(column: pa.Array | pa.ChunkedArray) -> int | None:
    """The statement's row count passed for progress (the same value on every row)."""
    flat = _flat(column)
    return flat[0].as_py() if len(flat) else None


def voc_analyse_arrow(text: pa.ChunkedArray, total: pa.ChunkedArray) -> pa.StructArray:
    with cyclic_gc_paused():  # the conversions build many objects and no cycles (local.py)
        texts = _flat(text).to_pylist()
        rows = analyse_rows(texts)
        result = _struct_array(rows, ANALYSIS_ARROW_TYPE)
    progress.advance(ANALYSIS_STEP, len(texts), _total(total))
    return result


def clause_lists(column: pa.Array | pa.ChunkedArray) -> list[tuple[tuple[str, int, float], ...] | None]:
    """A ``STRUCT(text, start, raw)[]`` column as Python tuples, converted field by field (a
    struct per clause through ``to_pylist`` would build a dict per clause)."""
    lists = _flat(column)
    values = lists.flatten()  # every clause of the batch, slicing and NULL lists accounted for
    texts = pc.struct_field(values, "text").to_pylist()
    starts = pc.struct_field(values, "start").to_pylist()
    raws = pc.struct_field(values, "raw").to_pylist()
    clauses = list(zip(texts, starts, raws))
    result: list[tuple | None] = []
    position = 0
    for length in pc.list_value_length(lists).to_pylist():
        if length is None:
            result.append(None)
            continue
        result.append(tuple(clauses[position:position + length]))
        position += length
    return result


def voc_tag_arrow(
    clauses: pa.ChunkedArray, sentiment_score: pa.ChunkedArray, taxonomy_json: pa.ChunkedArray, total: pa.ChunkedArray
) -> pa.StructArray:
    """Tags of analysed clauses; rows are grouped by their taxonomy argument like ``voc_enrich``."""
    with cyclic_gc_paused():
        return _tag_batch(clauses, sentiment_score, taxonomy_json, total)


def _tag_batch(
    clauses: pa.ChunkedArray, sentiment_score: pa.ChunkedArray, taxonomy_json: pa.ChunkedArray, total: pa.ChunkedArray
) -> pa.StructArray:
    clause_rows = clause_lists(clauses)
    scores = _flat(sentiment_score).to_pylist()
    items = [None if rows is None else (rows, score if score is not None else 0.0)
             for rows, score in zip(clause_rows, scores)]
    results: list[tuple | None] = [None] * len(items)
    groups: dict[str | None, list[int]] = {}
    for index, value in enumerate(_repeated_strings_per_row(taxonomy_json)):
        groups.setdefault(value, []).append(index)
    for value, indices in groups.items():
        document = resolve_taxonomy_argument(value)
        for index, row in zip(indices, tag_rows([items[i] for i in indices], document)):
            results[index] = row
    progress.advance(TAG_STEP, len(items), _total(total))
    return _struct_array(results, TAGS_ARROW_TYPE)


def voc_terms_arrow(text_clean: pa.ChunkedArray, taxonomy_json: pa.ChunkedArray, total: pa.ChunkedArray) -> pa.Array:
    with cyclic_gc_paused():
        return _terms_batch(text_clean, taxonomy_json, total)


def _terms_batch(text_clean: pa.ChunkedArray, taxonomy_json: pa.ChunkedArray, total: pa.ChunkedArray) -> pa.Array:
    texts = _flat(text_clean).to_pylist()
    results: list[list[str] | None] = [None] * len(texts)
    groups: dict[str | None, list[int]] = {}
    for index, value in enumerate(_repeated_strings_per_row(taxonomy_json)):
        groups.setdefault(value, []).append(index)
    for value, indices in groups.items():
        document = resolve_taxonomy_argument(value)
        for index, row in zip(indices, terms_rows([texts[i] for i in indices], document)):
            results[index] = row
    progress.advance(TERMS_STEP, len(texts), _total(total))
    return pa.array(results, type=pa.list_(pa.string()))


def voc_analysis_version_arrow(kind: pa.ChunkedArray) -> pa.Array:
    return pa.array([analysis_version()] * len(_flat(kind)), type=pa.string())


def voc_terms_version_arrow(taxonomy_json: pa.ChunkedArray) -> pa.Array:
    values = _repeated_strings_per_row(taxonomy_json)
    versions = {value: terms_version(resolve_taxonomy_argument(value)) for value in set(values)}
    return pa.array([versions[value] for value in values], type=pa.string())


def voc_taxonomy_handle_arrow(taxonomy_json: pa.ChunkedArray) -> pa.Array:
    values = _repeated_strings_per_row(taxonomy_json)
    handles = {value: register_taxonomy(value) for value in set(values)}
    return pa.array([handles[value] for value in values], type=pa.string())


def voc_regex_contains_arrow(text: pa.ChunkedArray, pattern: pa.ChunkedArray) -> pa.Array:
    patterns = _repeated_strings_per_row(pattern)  # usually one pattern repeated: dictionary encoded
    return pa.array(regex_contains_many(_flat(text).to_pylist(), patterns), type=pa.bool_())


def voc_mask_pii_arrow(text: pa.ChunkedArray) -> pa.Array:
    return pa.array([mask_pii(value) for value in _flat(text).to_pylist()], type=pa.string())


def voc_mask_payload_arrow(payload: pa.ChunkedArray) -> pa.Array:
    return pa.array([mask_payload(value) for value in _flat(payload).to_pylist()], type=pa.string())


def voc_clean_text_arrow(text: pa.ChunkedArray) -> pa.Array:
    return pa.array([clean_text(value) for value in _flat(text).to_pylist()], type=pa.string())


FUNCTIONS = (
    ("voc_enrich", voc_enrich_arrow, ["VARCHAR", "VARCHAR"], ENRICH_SQL_TYPE),
    ("voc_taxonomy_handle", voc_taxonomy_handle_arrow, ["VARCHAR"], "VARCHAR"),
    ("voc_analyse", voc_analyse_arrow, ["VARCHAR", "BIGINT"], ANALYSIS_SQL_TYPE),
    ("voc_tag", voc_tag_arrow, [CLAUSES_SQL_TYPE, "DOUBLE", "VARCHAR", "BIGINT"], TAGS_SQL_TYPE),
    ("voc_terms", voc_terms_arrow, ["VARCHAR", "VARCHAR", "BIGINT"], "VARCHAR[]"),
    ("voc_analysis_version", voc_analysis_version_arrow, ["VARCHAR"], "VARCHAR"),
    ("voc_terms_version", voc_terms_version_arrow, ["VARCHAR"], "VARCHAR"),
    ("voc_regex_contains", voc_regex_contains_arrow, ["VARCHAR", "VARCHAR"], "BOOLEAN"),
    ("voc_mask_pii", voc_mask_pii_arrow, ["VARCHAR"], "VARCHAR"),
    ("voc_mask_payload", voc_mask_payload_arrow, ["VARCHAR"], "VARCHAR"),
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


def register_functions(conn: Any, config: NlpConfig | None = None) -> Any:
    """Register the ``FUNCTIONS`` (``voc_enrich``, ``voc_taxonomy_handle``, ``voc_regex_contains``,
    ``voc_mask_pii``, ``voc_mask_payload``, ``voc_clean_text``) on a DuckDB connection.

    ``config`` (segmenter, sentiment model, workers, cache size) becomes this process's
    configuration; None keeps the one in force (the defaults unless configured before).
    Safe to call more than once on the same connection. Returns ``conn``.
    """
    if config is not None:
        configure(config)
    for name, function, parameters, return_type in FUNCTIONS:
        _create(conn, name, function, parameters, return_type)
    return conn
