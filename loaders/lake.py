"""The raw layer as Parquet in a lake folder, for the Spark engine (issue 19).

The same dlt sources as the DuckDB path (``loaders.sources``, ``loaders.api``) load into dlt's
filesystem destination: ``<lake_dir>/<dataset>/<table>/`` (a local folder or any object-store URL
dlt's filesystem destination supports, with its credentials from dlt's own configuration). The
lake holds what the warehouse holds:

* the raw tables, their child tables (``tickets__messages``, ``members__bound_accounts``), the
  history tables, ``<family>_quarantine`` and the load log ``<family>_files``, merged as the
  DuckDB raw tables are: dlt appends each load's files and ``loaders.lake_compaction`` replays the
  merge into one compacted Parquet file per table after every load;
* the file state (sha256 per landing file) and the API cursors: dlt resource state, which dlt
  stores in ``<lake_dir>/<dataset>/_dlt_pipeline_state/`` with each load and restores from there
  when the pipeline's working directory is gone, exactly as it does in the warehouse.

Readers take a table's visible Parquet files (:func:`lake_table_files`; Spark reads the folder,
which skips ``_``/``.`` names). Read the lake after the load step, not during it: while dlt writes,
a table folder also holds that load's files until compaction replaces them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import tempfile
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

import dlt
import duckdb
import pyarrow as pa
from dlt.common.destination.exceptions import DestinationUndefinedEntity
from dlt.common.libs.pyarrow import columns_to_arrow
from dlt.common.pipeline import LoadInfo
from dlt.common.schema import Schema

from loaders.contracts import FAMILY_SPECS
from loaders.families import FAMILIES
from loaders.hints import RAW_DATASET, raw_table_columns
from loaders.lake_compaction import LakeStore, compact_chain, recover, table_rules, write_empty_table
from loaders.pipeline import PathLike, _keep_dlt_out_of_home, _keep_dlt_telemetry_off
from loaders.privacy import RecordGuard
from loaders.sources import SOURCES

PIPELINES_DIR_NAME = ".dlt_pipelines"
"""A local lake keeps dlt's working directories in ``<lake_dir>/.dlt_pipelines`` (hidden)."""

_CHILD_SYSTEM_COLUMNS = (
    ("_dlt_root_id", pa.string()),
    ("_dlt_parent_id", pa.string()),
    ("_dlt_list_idx", pa.int64()),
    ("_dlt_id", pa.string()),
)
_HINT_TYPES = {"text": pa.string(), "bigint": pa.int64(), "bool": pa.bool_(), "timestamp": pa.timestamp("us", tz="UTC")}
# dlt warns at every lake load that it appends where the hints say merge: compaction merges
_EXPECTED_WARNINGS = ("Falling back to `append`", 'only applied when using the "merge" write disposition')

log = logging.getLogger(__name__)


def is_url(lake_dir: PathLike) -> bool:
    return "://" in str(lake_dir)


def lake_location(lake_dir: PathLike) -> str:
    """The lake as dlt's ``bucket_url``: an URL as given, a local folder as an absolute path."""
    return str(lake_dir).rstrip("/") if is_url(lake_dir) else str(Path(lake_dir).resolve())


def describe_lake(lake_dir: PathLike) -> str:
    """The lake for logs and metadata: an URL without user info, query or fragment (where an
    object-store URL may carry a key)."""
    if not is_url(lake_dir):
        return lake_location(lake_dir)
    parts = urlsplit(str(lake_dir))
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def lake_pipeline_name(family: str, lake_dir: PathLike, landing_dir: PathLike) -> str:
    """``voc_lake_<family>_<hash>``: stable for one (lake, landing) pair, distinct otherwise."""
    key = f"{lake_location(lake_dir)}\n{Path(landing_dir).resolve()}"
    return f"voc_lake_{family}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def lake_pipelines_dir(lake_dir: PathLike) -> Path:
    """dlt's working directories: inside a local lake; for an object store, in the temp folder
    (the state is restored from the lake when they are missing)."""
    if is_url(lake_dir):
        digest = hashlib.sha256(lake_location(lake_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"voc_lake_pipelines_{digest}"
    return Path(lake_location(lake_dir)) / PIPELINES_DIR_NAME


def make_lake_pipeline(
    family: str, lake_dir: PathLike, landing_dir: PathLike, pipelines_dir: PathLike | None = None
) -> dlt.Pipeline:
    """The dlt pipeline loading ``family`` into the lake's ``raw`` dataset as Parquet."""
    if family not in FAMILIES:
        raise ValueError(f"unknown source family {family!r}; expected one of {FAMILIES}")
    _keep_dlt_out_of_home()
    if not is_url(lake_dir):
        Path(lake_location(lake_dir)).mkdir(parents=True, exist_ok=True)
    pipeline = dlt.pipeline(
        pipeline_name=lake_pipeline_name(family, lake_dir, landing_dir),
        pipelines_dir=str(pipelines_dir or lake_pipelines_dir(lake_dir)),
        destination=dlt.destinations.filesystem(lake_location(lake_dir)),
        dataset_name=RAW_DATASET,
        restore_from_destination=True,
    )
    _keep_dlt_telemetry_off()
    return pipeline


def lake_source(source: Any) -> Any:
    """``source`` ready for the lake: nested rows carry ``_dlt_root_id`` as in the warehouse.

    dlt propagates the root key only for merge strategies the destination runs itself; the
    compaction links nested rows to their root row by it.
    """
    source.root_key = True
    return source


class _ExpectedWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(text in message for text in _EXPECTED_WARNINGS)


@contextlib.contextmanager
def quiet_append_fallback() -> Iterator[None]:
    """Silence dlt's per-table warnings that the lake appends (compaction does the merge)."""
    logger, quiet = logging.getLogger("dlt"), _ExpectedWarnings()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _store_and_schema(pipeline: dlt.Pipeline) -> tuple[LakeStore, Schema | None]:
    """The lake's files, and the dlt schema stored in the lake with its newest load (not the
    pipeline's live schema, which dagster-dlt strips of column types for its metadata)."""
    with pipeline.destination_client() as client:
        store = LakeStore(client.fs_client, client.dataset_path)  # type: ignore[attr-defined]
        try:
            stored = client.get_stored_schema(pipeline.default_schema_name) if pipeline.default_schema_name else None
        except DestinationUndefinedEntity:  # a lake dlt has not set up yet
            stored = None
    return store, Schema.from_dict(json.loads(stored.schema)) if stored else None


def _arrow_schemas(pipeline: dlt.Pipeline, schema: Schema) -> dict[str, pa.Schema]:
    caps = pipeline.destination.capabilities()
    return {
        table["name"]: columns_to_arrow(table["columns"], caps, timestamp_timezone="UTC")
        for table in schema.data_tables(include_incomplete=False)
    }


def child_table_schema(columns: dict[str, dict]) -> pa.Schema:
    """A child table declared by the spec but not loaded yet (as ``ensure_child_tables``)."""
    fields = [pa.field(name, _HINT_TYPES[hints["data_type"]]) for name, hints in columns.items()]
    return pa.schema(fields + [pa.field(name, arrow_type, nullable=False) for name, arrow_type in _CHILD_SYSTEM_COLUMNS])


def finish_lake_load(pipeline: dlt.Pipeline, family: str, create_tables: bool = True) -> dict[str, int]:
    """Compact the family's tables after a load (or before one, to finish an interrupted one:
    ``create_tables=False``, since dlt has to set up a new lake first) and create its missing
    child tables; returns the rows per table it rewrote."""
    store, schema = _store_and_schema(pipeline)
    family_tables = {table["name"] for table in schema.data_tables()} if schema is not None else set()
    for spec in FAMILY_SPECS[family]:
        family_tables |= {spec.table, *(f"{spec.table}__{name}" for name in raw_table_columns(spec)[1])}
    recover(store, family_tables)
    rewritten: dict[str, int] = {}
    if schema is not None:
        schemas = _arrow_schemas(pipeline, schema)
        pending = frozenset(pipeline.list_normalized_load_packages()) | frozenset(
            pipeline.list_extracted_load_packages()
        )
        for chain in table_rules(schema):
            chain = [rule for rule in chain if rule.name in schemas]
            if chain and any(store.parquet_files(rule.name) for rule in chain):
                rewritten.update(compact_chain(store, chain, schemas, pipeline.dataset_name, pending) or {})
        known = schemas
    else:
        known = {}
    if not create_tables:
        return rewritten
    for spec in FAMILY_SPECS[family]:
        for list_field, child_columns in raw_table_columns(spec)[1].items():
            table = f"{spec.table}__{list_field}"
            arrow_schema = known.get(table) or child_table_schema(child_columns)
            if write_empty_table(store, table, arrow_schema):
                rewritten[table] = 0
    return rewritten


def load_family_to_lake(
    family: str,
    landing_dir: PathLike,
    lake_dir: PathLike,
    guard: RecordGuard,
    columnar: bool = True,
    workers: int | None = None,
    source: Any = None,
    pipelines_dir: PathLike | None = None,
) -> LoadInfo:
    """Load new or changed files of one family (or ``source``, e.g. its vendor API) into the lake
    and compact the tables; raises if any load job failed. Takes no lock: ``load_family`` does."""
    pipeline = make_lake_pipeline(family, lake_dir, landing_dir, pipelines_dir)
    if source is None:
        source = SOURCES[family](str(Path(landing_dir).resolve()), guard, columnar=columnar, workers=workers)
    with quiet_append_fallback():
        finish_lake_load(pipeline, family, create_tables=False)  # a compaction a crash interrupted
        info = pipeline.run(lake_source(source))
        info.raise_on_failed_jobs()
        finish_lake_load(pipeline, family)
    return info


def lake_table_dir(lake_dir: PathLike, table: str, dataset: str = RAW_DATASET) -> str:
    """``<lake_dir>/<dataset>/<table>``: the folder Spark reads as the table."""
    return f"{lake_location(lake_dir)}/{dataset}/{table}"


def _local_store(lake_dir: PathLike, dataset: str) -> LakeStore:
    import fsspec

    if is_url(lake_dir):
        fs, path = fsspec.core.url_to_fs(lake_location(lake_dir))
        return LakeStore(fs, f"{path}/{dataset}")
    return LakeStore(fsspec.filesystem("file"), f"{lake_location(lake_dir)}/{dataset}")


def lake_tables(lake_dir: PathLike, dataset: str = RAW_DATASET) -> list[str]:
    """The data tables of the lake's dataset (dlt's own ``_dlt_*`` tables left out)."""
    store = _local_store(lake_dir, dataset)
    return [name for name in store._names(store.dataset_path) if not name.startswith((".", "_")) and store.parquet_files(name)]


def lake_table_files(lake_dir: PathLike, table: str, dataset: str = RAW_DATASET) -> list[str]:
    """The table's visible Parquet files (one compacted file after a finished load)."""
    return _local_store(lake_dir, dataset).parquet_files(table)


def connect_lake(lake_dir: PathLike, dataset: str = RAW_DATASET) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake's tables as views ``<dataset>.<table>`` over
    their Parquet files (what ``orchestration.metadata`` reads for the load assets' metadata)."""
    store = _local_store(lake_dir, dataset)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if is_url(lake_dir):
        con.register_filesystem(store.fs)
    con.execute(f'CREATE SCHEMA "{dataset}"')
    for table in lake_tables(lake_dir, dataset):
        files = [store.fs.unstrip_protocol(path) if is_url(lake_dir) else path for path in store.parquet_files(table)]
        listed = ", ".join("'" + path.replace("'", "''") + "'" for path in files)
        con.execute(f'CREATE VIEW "{dataset}"."{table}" AS SELECT * FROM read_parquet([{listed}])')
    return con


def read_lake_table(lake_dir: PathLike, table: str, dataset: str = RAW_DATASET) -> pa.Table:
    """The whole table as Arrow (for tests and small tables)."""
    store = _local_store(lake_dir, dataset)
    return pa.concat_tables(store.read(store.parquet_files(table)))


def remove_pipelines_dir(lake_dir: PathLike) -> None:
    """Drop dlt's local working directories of a local lake (state comes back from the lake)."""
    import shutil

    shutil.rmtree(lake_pipelines_dir(lake_dir), ignore_errors=True)


__all__ = [
    "connect_lake",
    "describe_lake",
    "finish_lake_load",
    "lake_location",
    "lake_source",
    "lake_table_dir",
    "lake_table_files",
    "lake_tables",
    "load_family_to_lake",
    "make_lake_pipeline",
    "quiet_append_fallback",
    "read_lake_table",
]
