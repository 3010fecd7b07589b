"""Pick file or api mode per family at run time, and load one family from its vendor API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlt.common.pipeline import LoadInfo

from loaders.api.config import API_MODE, ApiConfig, ApiSourceConfig, HttpRetrySettings
from loaders.api.sources import api_source
from loaders.hints import RAW_DATASET
from loaders.pipeline import PathLike, ensure_child_tables, make_pipeline
from loaders.privacy import RecordGuard
from loaders.sources import SOURCES


def source_for_family(
    family: str,
    landing_dir: PathLike,
    guard: RecordGuard,
    api: ApiConfig | None = None,
    dataset_name: str = RAW_DATASET,
) -> Any:
    """The dlt source that feeds ``family`` in this run: vendor API or landing folder.

    ``api`` is this run's API configuration (``orchestration.settings`` reads it when a run
    starts, so a deployment switches mode without a code change); None = every family from
    its landing folder.
    """
    api = api or ApiConfig()
    if api.mode(family) == API_MODE:
        return api_source(api.sources[family], guard, api.http, dataset_name)
    return SOURCES[family](str(Path(landing_dir).resolve()), guard, dataset_name)


def describe_source_choice(family: str, landing_dir: PathLike, api: ApiConfig | None = None) -> str:
    """One log line naming where ``family`` is read from (never the token)."""
    api = api or ApiConfig()
    if api.mode(family) == API_MODE:
        return api.sources[family].describe()
    return f"{family}: landing folder {Path(landing_dir) / family}"


def load_family_from_api(
    config: ApiSourceConfig,
    warehouse_path: PathLike,
    landing_dir: PathLike,
    guard: RecordGuard,
    http: HttpRetrySettings | None = None,
) -> LoadInfo:
    """Load the changes of one family from its API into the warehouse; raises on failure.

    Uses the family's file-mode pipeline (same name, same state and schema): switching a family
    between modes keeps both cursors and never redeclares its tables.
    """
    pipeline = make_pipeline(config.family, warehouse_path, landing_dir)
    info = pipeline.run(api_source(config, guard, http))
    info.raise_on_failed_jobs()
    ensure_child_tables(pipeline, config.family)
    return info
