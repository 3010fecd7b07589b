"""The one dbt project object shared by the assets, the CLI and the tests."""

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from nlp_udfs.progress import progress_message
from orchestration.settings import DBT_PROJECT_DIR, VocSettings

# dbt is installed beside this interpreter; `voc` and pytest may run without an activated venv.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
# On Spark, dbt runs through this wrapper, which registers the Python UDFs and the lake's raw
# tables on the Spark session before dbt starts (orchestration/engine/spark_dbt.py, docs/spark.md).
SPARK_DBT_EXECUTABLE = str(Path(sys.executable).with_name("voc-spark-dbt"))
# The profile's target of each engine (dbt_project/profiles.yml)
DBT_TARGETS = {"duckdb": "duckdb", "spark": "spark"}

voc_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# What a pipeline run asks dbt for: every seed, model and data test, but not the unit tests. A unit
# test depends only on a model's SQL and its fixtures, never on the night's data, so it belongs to
# CI (the test suite runs them all) rather than to every production run, as dbt's own guidance
# has it. Each one builds its fixtures and runs the model's SQL: a few seconds of every night.
DBT_PIPELINE_BUILD_ARGS = ("build", "--exclude-resource-type", "unit_test")
# A run with this tag set to "true" (`voc run --full-refresh`, or a tag on a run launched in the
# UI) builds the incremental models from scratch: after a new pseudonym key, alerts keep no old one_id.
FULL_REFRESH_TAG = "voc/full_refresh"


def dbt_cli_resource(settings: VocSettings | None = None):  # noqa: ANN201 - a DbtCliResource
    """How dbt is run for the settings' engine: ``dbt`` on DuckDB; ``voc-spark-dbt --target spark``
    on Spark (the same project and manifest, so the same asset graph and keys)."""
    from dagster_dbt import DbtCliResource

    if settings is not None and settings.uses_spark:
        from orchestration.engine.spark_session import require_pyspark

        require_pyspark()  # say what to install before dagster-dbt fails to find the adapter
        return DbtCliResource(project_dir=voc_dbt_project, dbt_executable=SPARK_DBT_EXECUTABLE, target=DBT_TARGETS["spark"])
    return DbtCliResource(project_dir=voc_dbt_project, dbt_executable=DBT_EXECUTABLE)


def dbt_vars_args(dbt_vars: Mapping[str, object]) -> list[str]:
    """``--vars`` for a dbt command: how the settings reach dbt (``profiles.yml`` reads them)."""
    return ["--vars", json.dumps(dict(dbt_vars), sort_keys=True)]


def forward_nlp_progress(invocation: Any, log: Callable[[str], None]) -> bool:
    """Log the enrichment's progress messages (``nlp_udfs.progress``) of a running dbt invocation.

    dagster-dbt turns dbt's JSON output into asset events and drops every other line, so the rows
    done, rate and time left of a long enrichment would reach only dbt's log file, not the Dagster
    run log nor the ``voc run`` terminal. This tees the invocation's output stream: every event
    still reaches dagster-dbt unchanged, and each progress message is also passed to ``log``
    (the step's ``context.log.info``). dagster-dbt has no public hook for it; with a version
    lacking the private stream this leaves the invocation alone and returns False.
    """
    stream = getattr(invocation, "_stream_stdout", None)
    if not callable(stream):
        return False

    def tee() -> Any:
        for raw_event in stream():
            message = progress_message(raw_event)
            if message is not None:
                log(message)
            yield raw_event

    invocation._stream_stdout = tee
    return True
