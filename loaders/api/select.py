"""Pick file or api mode per family at run time, and load one family from its vendor API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from dlt.common.pipeline import LoadInfo

from loaders.api.config import (
    API_MODE,
    ApiSourceConfig,
    HttpRetrySettings,
    api_source_config,
    source_mode,
)
from loaders.api.sources import api_source
from loaders.pipeline import PathLike, ensure_child_tables, make_pipeline
from loaders.hints import RAW_DATASET
from loaders.sources import SOURCES


def source_for_family(
    family: str,
    landing_dir: PathLike,
    environ: Mapping[str, str] | None = None,
    dataset_name: str = RAW_DATASET,
) -> Any:
    """The dlt source that feeds ``family`` in this run: vendor API or landing folder.

    Reads ``VOC_<SOURCE>_MODE`` (and in api mode the base URL, token and retry settings) from
    ``environ`` now, so a deployment switches mode without a code change.
    """
    environ = os.environ if environ is None else environ
    if source_mode(family, environ) == API_MODE:
        return api_source(
            api_source_config(family, environ), HttpRetrySettings.from_env(environ), dataset_name
        )
    return SOURCES[family](str(Path(landing_dir).resolve()), dataset_name)


def describe_source_choice(
    family: str, landing_dir: PathLike, environ: Mapping[str, str] | None = None
) -> str:
    """One log line naming where ``family`` is read from (never the token)."""
    environ = os.environ if environ is None else environ
    if source_mode(family, environ) == API_MODE:
        return api_source_config(family, environ).describe()
    return f"{family}: landing folder {Path(landing_dir) / family}"


def load_family_from_api(
    config: ApiSourceConfig,
    duckdb_path: PathLike,
    landing_dir: PathLike,
    http: HttpRetrySettings | None = None,
) -> LoadInfo:
    """Load the changes of one family from its API into the warehouse; raises on failure.

    Uses the family's file-mode pipeline (same name, same state and schema): switching a family
    between modes keeps both cursors and never redeclares its tables.
    """
    pipeline = make_pipeline(config.family, duckdb_path, landing_dir)
    info = pipeline.run(api_source(config, http))
    info.raise_on_failed_jobs()
    ensure_child_tables(pipeline, config.family)
    return info


def step_retry_budget(environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``(retries, seconds to wait)`` for a load step that failed on a vendor API page.

    ``VOC_API_STEP_RETRIES`` (default 2) and ``VOC_API_STEP_RETRY_SECONDS`` (default 60): the
    vendor may be down for longer than the per-request retries cover.
    """
    environ = os.environ if environ is None else environ
    retries = int(environ.get("VOC_API_STEP_RETRIES", "").strip() or 2)
    wait = int(environ.get("VOC_API_STEP_RETRY_SECONDS", "").strip() or 60)
    return max(retries, 0), max(wait, 0)
