"""dlt pipelines that load the landing folder into the ``raw`` schema of a DuckDB warehouse.

One pipeline per source family. The pipeline name hashes the resolved warehouse path and landing
folder, and its working directory lives next to the warehouse (``<warehouse dir>/.dlt_pipelines``),
so two warehouses or two landing folders never share state. The pipeline state (which files were
loaded, by sha256) is stored in the warehouse with every load and restored from there when the
working directory is missing, so deleting ``.dlt_pipelines`` does not reload anything.

No ``.dlt/config.toml`` is needed: everything is passed explicitly.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import dlt
from dlt.common.pipeline import LoadInfo

from loaders.contracts import FAMILY_SPECS
from loaders.families import FAMILIES
from loaders.hints import RAW_DATASET, raw_table_columns
from loaders.privacy import RecordGuard
from loaders.sources import SOURCES
from loaders.upgrade import upgrade_text_timestamps
from loaders.writer_lock import explain_lock_conflicts, hold_writer_lock

PIPELINES_DIR_NAME = ".dlt_pipelines"

_DUCKDB_TYPES = {
    "text": "VARCHAR",
    "bigint": "BIGINT",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
}
# the columns dlt itself gives every child table
_CHILD_SYSTEM_COLUMNS = (
    ("_dlt_root_id", "VARCHAR NOT NULL"),
    ("_dlt_parent_id", "VARCHAR NOT NULL"),
    ("_dlt_list_idx", "BIGINT NOT NULL"),
    ("_dlt_id", "VARCHAR NOT NULL"),
)
PathLike = str | os.PathLike[str]


def pipeline_name(family: str, warehouse_path: PathLike, landing_dir: PathLike) -> str:
    """``voc_<family>_<hash>``: stable for one (warehouse, landing) pair, distinct otherwise."""
    key = f"{Path(warehouse_path).resolve()}\n{Path(landing_dir).resolve()}"
    return f"voc_{family}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def pipelines_dir_for(warehouse_path: PathLike) -> Path:
    """Working directories of the warehouse's pipelines: a hidden folder beside the DuckDB file."""
    return Path(warehouse_path).resolve().parent / PIPELINES_DIR_NAME


def _keep_dlt_out_of_home() -> None:
    """Stop dlt from writing into the user's home directory.

    Even with telemetry off, dlt writes an ``.anonymous_id`` file into its global dir (``~/.dlt``,
    ``/var/dlt`` as root) after each step; unless the user chose another place
    (``XDG_DATA_HOME``, which dlt itself reads), that dir goes to the temp folder.
    """
    from dlt.common.runtime import run_context

    context = run_context.active()
    # RunContext documents `_global_dir` as settable on an instance; there is no public setter
    if getattr(context, "_global_dir", "unset") is None:
        default = Path(run_context.global_dir())
        if default in (Path.home() / ".dlt", Path("/var/dlt")):
            context._global_dir = os.path.join(tempfile.gettempdir(), "dlt")


def _keep_dlt_telemetry_off() -> None:
    """dlt sends anonymous telemetry unless told otherwise; unless the user has configured
    ``runtime.dlthub_telemetry`` (dlt's config: ``RUNTIME__DLTHUB_TELEMETRY`` or a config.toml),
    the tracker dlt started with its runtime is switched off."""
    from dlt.common.runtime import anon_tracker

    if "runtime.dlthub_telemetry" not in dlt.config:
        anon_tracker.disable_anon_tracker()


def make_pipeline(
    family: str,
    warehouse_path: PathLike,
    landing_dir: PathLike,
) -> dlt.Pipeline:
    """The dlt pipeline loading ``family`` from ``landing_dir`` into ``warehouse_path``, schema raw.

    Creating it creates the warehouse folder and dlt's working dir; it does not read the landing
    folder. State is restored from the warehouse when the working dir is missing. A warehouse
    written by an older loader has its text time columns converted first (``loaders.upgrade``).
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown source family {family!r}; expected one of {FAMILIES}")
    _keep_dlt_out_of_home()
    warehouse = Path(warehouse_path).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with explain_lock_conflicts(warehouse):
        upgrade_text_timestamps(warehouse, family)
    pipeline = dlt.pipeline(
        pipeline_name=pipeline_name(family, warehouse, landing_dir),
        pipelines_dir=str(pipelines_dir_for(warehouse)),
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name=RAW_DATASET,
        restore_from_destination=True,
    )
    _keep_dlt_telemetry_off()  # after dlt.pipeline: creating the first one starts the tracker
    return pipeline


def ensure_child_tables(pipeline: dlt.Pipeline, family: str) -> list[str]:
    """Create the family's missing child tables (``tickets__messages``, ``members__...``).

    dlt creates a child table only when some record has a non-empty list, but dbt needs it to
    exist on a fresh warehouse too. dlt copes with a table that already exists (it compares
    columns with the warehouse before loading), so creating it here is safe. Run it after every
    load of the family (``load_family`` does); returns the tables it created.
    """
    created: list[str] = []
    with pipeline.sql_client() as client:
        existing = {
            row[0]
            for row in client.execute_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                pipeline.dataset_name,
            )
        }
        for spec in FAMILY_SPECS[family]:
            for list_field, child_columns in raw_table_columns(spec)[1].items():
                table = f"{spec.table}__{list_field}"
                if table in existing:
                    continue
                column_sql = [
                    f'"{name}" {_DUCKDB_TYPES[hints["data_type"]]}'
                    for name, hints in child_columns.items()
                ] + [f'"{name}" {ddl}' for name, ddl in _CHILD_SYSTEM_COLUMNS]
                client.execute_sql(
                    f"CREATE TABLE IF NOT EXISTS {client.make_qualified_table_name(table)}"
                    f" ({', '.join(column_sql)})"
                )
                created.append(table)
    return created


def load_family(
    family: str,
    landing_dir: PathLike,
    warehouse_path: PathLike,
    guard: RecordGuard,
    wait_seconds: float = 600.0,
    columnar: bool = True,
    lake_dir: PathLike | None = None,
    workers: int | None = None,
) -> LoadInfo:
    """Load new or changed files of one family; raises if any load job failed.

    Holds the warehouse's writer lock (``loaders.writer_lock``) for the load, waiting up to
    ``wait_seconds`` for another writer. Records go to dlt as Arrow tables; ``columnar=False``
    is the former dict path (see ``loaders.sources._file_resource``); ``workers`` processes
    classify a large file's lines (``loaders.files.parallel``; default one per core). With
    ``lake_dir`` the raw layer goes to that lake as Parquet instead of the warehouse (``loaders.lake``).
    """
    if lake_dir is not None:
        from loaders.lake import load_family_to_lake

        with hold_writer_lock(warehouse_path, wait_seconds=wait_seconds):
            return load_family_to_lake(family, landing_dir, lake_dir, guard, columnar=columnar, workers=workers)
    with hold_writer_lock(warehouse_path, wait_seconds=wait_seconds), explain_lock_conflicts(warehouse_path):
        pipeline = make_pipeline(family, warehouse_path, landing_dir)
        source = SOURCES[family](str(Path(landing_dir).resolve()), guard, columnar=columnar, workers=workers)
        info = pipeline.run(source)
        info.raise_on_failed_jobs()
        ensure_child_tables(pipeline, family)
    return info


def load_all(
    landing_dir: PathLike,
    warehouse_path: PathLike,
    guard: RecordGuard,
    columnar: bool = True,
    lake_dir: PathLike | None = None,
    workers: int | None = None,
) -> dict[str, LoadInfo]:
    """Load every family, one after the other (DuckDB allows one writing process at a time);
    into ``lake_dir`` as Parquet when given (``loaders.lake``)."""
    return {
        family: load_family(
            family, landing_dir, warehouse_path, guard, columnar=columnar, lake_dir=lake_dir, workers=workers
        )
        for family in FAMILIES
    }
