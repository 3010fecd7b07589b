"""The one dbt project object shared by the assets, the CLI and the tests."""

import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

# dbt is installed beside this interpreter; `voc` and pytest may run without an activated venv.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

voc_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
