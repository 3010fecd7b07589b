"""Register the NLP functions on a Spark session: the same SQL functions as ``duckdb_functions``.

Every function of ``duckdb_functions.FUNCTIONS`` and ``voc_pseudonym`` is registered under the
same name, with the same arguments in the same order and the same result type (the Spark type
is derived from the same Arrow type), as a scalar Arrow UDF (``pyspark.sql.functions.arrow_udf``):
Spark hands each Python worker Arrow batches of the rows of its partition, and the worker calls
the very batch functions the DuckDB registration calls (``voc_analyse_arrow``, ``voc_tag_arrow``
...). So the enrichment runs on the executors, in parallel over partitions, and a text gives
byte-identical results on both engines (``tests/test_spark_functions.py``).

What differs from one DuckDB process, and how it is handled:

- **Configuration in every worker.** ``NlpConfig`` (segmenter, model switch, cache) travels with
  each function and is put in force in the worker before its first batch. ``workers`` is forced to
  1: Spark already runs one Python worker per task slot, and a worker that started a pool of its
  own per batch would overbook the executor's cores.
- **Taxonomy handles.** On DuckDB, ``voc_taxonomy_handle(<taxonomy json>)`` remembers the
  document in the one process and returns its handle, which ``voc_tag``, ``voc_terms`` and
  ``voc_terms_version`` then accept. On Spark the handle is made in one Python worker and used in
  others, on other machines. So ``voc_taxonomy_handle`` also writes the document to a taxonomy
  store, a folder every executor can read (``<spark warehouse>/_voc_taxonomies`` by default:
  local, HDFS or an object store through fsspec), as ``<hash>.json``; a worker that meets a handle
  it does not know reads the document from there, registers it, and checks that it gets the same
  handle (a different one means the executor runs other ``nlp_udfs`` code than the driver).
  Taxonomy documents are business settings (the taxonomy seed), not personal data.
- **The pseudonym key** is bound into ``voc_pseudonym``'s closure, which Spark pickles to its
  executors as part of the function: it is never SQL text, a table or a log line.

pyspark is imported only inside ``register_functions``: the DuckDB install has no pyspark.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
import warnings
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from . import duckdb_functions, pseudonyms
from .config import NlpConfig, configure, current
from .parallel import HANDLE_PREFIX, register_taxonomy, resolve_taxonomy_argument

# Each function's result as an Arrow type: the Spark result type is derived from it, and the batch
# function already builds arrays of exactly this type for DuckDB.
RESULT_ARROW_TYPES: dict[str, pa.DataType] = {
    "voc_enrich": duckdb_functions.ENRICH_ARROW_TYPE,
    "voc_taxonomy_handle": pa.string(),
    "voc_analyse": duckdb_functions.ANALYSIS_ARROW_TYPE,
    "voc_tag": duckdb_functions.TAGS_ARROW_TYPE,
    "voc_terms": pa.list_(pa.string()),
    "voc_analysis_version": pa.string(),
    "voc_terms_version": pa.string(),
    "voc_regex_contains": pa.bool_(),
    "voc_mask_pii": pa.string(),
    "voc_mask_payload": pa.string(),
    "voc_clean_text": pa.string(),
    pseudonyms.SQL_FUNCTION: pa.string(),
}
# Which argument (0-based) is a taxonomy document or handle, per function that takes one.
TAXONOMY_ARGUMENT = {"voc_enrich": 1, "voc_tag": 2, "voc_terms": 1, "voc_terms_version": 0}
TAXONOMY_STORE_FOLDER = "_voc_taxonomies"


class TaxonomyStoreError(RuntimeError):
    """A taxonomy handle no executor can resolve: not in the store, or made by other code."""


class TaxonomyStore:
    """Taxonomy documents by handle, in a folder (a local path or an fsspec URL) that the driver
    and every executor can read: ``<folder>/<hash>.json``."""

    def __init__(self, location: str) -> None:
        self.location = location.rstrip("/")

    def _path(self, handle: str) -> str:
        return f"{self.location}/{handle[len(HANDLE_PREFIX):]}.json"

    def _fs(self):  # noqa: ANN202 - an fsspec filesystem and the path on it
        from fsspec.core import url_to_fs

        return url_to_fs(self.location)

    def put(self, handle: str, document: str) -> None:
        """Keep ``document`` under ``handle`` (written once, atomically where the file system
        renames atomically: a reader never sees half a document)."""
        fs, _ = self._fs()
        path = self._path(handle)
        if fs.exists(path):
            return
        fs.makedirs(self.location, exist_ok=True)
        partial = f"{self.location}/.{uuid.uuid4().hex}.part"
        with fs.open(partial, "w", encoding="utf-8") as out:
            out.write(document)
        fs.mv(partial, path)

    def get(self, handle: str) -> str:
        fs, _ = self._fs()
        path = self._path(handle)
        try:
            with fs.open(path, "r", encoding="utf-8") as source:
                return source.read()
        except FileNotFoundError:
            raise TaxonomyStoreError(
                f"unknown taxonomy handle {handle!r}: not in the taxonomy store {self.location} "
                "(voc_taxonomy_handle(<taxonomy json>) writes it there; every executor must read that folder)"
            ) from None


def _ensure_known(values: list[str | None], store: TaxonomyStore) -> None:
    """Register in this worker every taxonomy handle of ``values`` it has not seen, from the store."""
    for value in set(values):
        if value is None or not value.startswith(HANDLE_PREFIX):
            continue
        try:
            resolve_taxonomy_argument(value)
            continue
        except KeyError:
            pass
        handle = register_taxonomy(store.get(value))
        if handle != value:
            raise TaxonomyStoreError(
                f"taxonomy handle {value!r} resolves to {handle!r} on this executor: it runs other nlp_udfs "
                "code, lexicons, models or segmenter than the process that made the handle"
            )


def _in_worker(config: NlpConfig, function: Callable, name: str, store: TaxonomyStore) -> Callable[..., pa.Array]:
    """``function`` (a DuckDB Arrow batch function) as a Spark Arrow UDF body: the configuration
    put in force, taxonomy handles resolved from the store, and the store filled by
    ``voc_taxonomy_handle``."""
    position = TAXONOMY_ARGUMENT.get(name)

    def batch(*columns: pa.Array) -> pa.Array:
        if current() != config:
            configure(config)
        if position is not None:
            _ensure_known(duckdb_functions._repeated_strings_per_row(columns[position]), store)
        result = function(*columns)
        if name == "voc_taxonomy_handle":
            documents = duckdb_functions._repeated_strings_per_row(columns[0])
            for document, handle in set(zip(documents, result.to_pylist())):
                if handle is not None:
                    store.put(handle, document)
        return result

    batch.__name__ = name
    return batch


def spark_nlp_config(config: NlpConfig | None) -> NlpConfig:
    """The configuration each Spark Python worker runs with: ``config`` (else the one in force
    here) with one process per worker (Spark parallelises over tasks)."""
    return dataclasses.replace(config or current(), workers=1)


def function_bodies(
    config: NlpConfig | None = None, pseudonym_key: bytes = pseudonyms.DEMO_KEY, taxonomy_store: str | None = None
) -> dict[str, Callable[..., pa.Array]]:
    """name -> the Python body of each Spark UDF (what a Spark worker calls with Arrow arrays):
    ``duckdb_functions.FUNCTIONS`` plus ``voc_pseudonym`` bound to ``pseudonym_key``."""
    config = spark_nlp_config(config)
    store = TaxonomyStore(taxonomy_store or os.path.join(os.getcwd(), "spark-warehouse", TAXONOMY_STORE_FOLDER))
    functions: list[tuple[str, Callable]] = [(name, function) for name, function, _, _ in duckdb_functions.FUNCTIONS]
    functions.append((pseudonyms.SQL_FUNCTION, pseudonyms.arrow_function(pseudonym_key)))
    return {name: _in_worker(config, function, name, store) for name, function in functions}


def register_functions(
    spark: Any,
    config: NlpConfig | None = None,
    pseudonym_key: bytes = pseudonyms.DEMO_KEY,
    taxonomy_store: str | None = None,
) -> Any:
    """Register every NLP function and ``voc_pseudonym`` as Arrow UDFs on ``spark`` (a
    ``SparkSession``), for SQL (dbt's models) and ``spark.sql``; returns ``spark``.

    ``taxonomy_store``: a folder (path or URL) the driver and every executor read and write; the
    session factory passes ``<spark warehouse>/_voc_taxonomies``. Registering again replaces the
    functions (e.g. with another key).
    """
    from pyspark.sql.functions import ArrowUDFType, arrow_udf
    from pyspark.sql.pandas.types import from_arrow_type

    for name, body in function_bodies(config, pseudonym_key, taxonomy_store).items():
        result_type = from_arrow_type(RESULT_ARROW_TYPES[name])
        with warnings.catch_warnings():  # "type hints preferred": the bodies take any arity
            warnings.simplefilter("ignore", UserWarning)
            function = arrow_udf(body, result_type, ArrowUDFType.SCALAR)
        spark.udf.register(name, function)
    return spark
