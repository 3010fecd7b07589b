"""The one dbt project object shared by the assets, the CLI and the tests."""

import json
import sys
from collections.abc import Mapping
from pathlib import Path

from dagster_dbt import DbtProject

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
