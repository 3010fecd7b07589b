"""The one dbt project object shared by the assets, the CLI and the tests."""

import json
import sys
from collections.abc import Mapping
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

# dbt is installed beside this interpreter; `voc` and pytest may run without an activated venv.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

voc_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# What a pipeline run asks dbt for: every seed, model and data test, but not the unit tests. A unit
# test depends only on a model's SQL and its fixtures, never on the night's data, so it belongs to
# CI (the test suite runs them all) rather than to every production run, as dbt's own guidance
# has it. Each one builds its fixtures and runs the model's SQL: a few seconds of every night.
DBT_PIPELINE_BUILD_ARGS = ("build", "--exclude-resource-type", "unit_test")
# A run with this tag set to "true" (`voc run --full-refresh`, or a tag on a run launched in the
# UI) builds the incremental models from scratch: after a new pseudonym key, alerts keep no old one_id.
FULL_REFRESH_TAG = "voc/full_refresh"


def dbt_vars_args(dbt_vars: Mapping[str, object]) -> list[str]:
    """``--vars`` for a dbt command: how the settings reach dbt (``profiles.yml`` reads them)."""
    return ["--vars", json.dumps(dict(dbt_vars), sort_keys=True)]
