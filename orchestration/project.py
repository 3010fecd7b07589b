"""The one dbt project object shared by the assets, the CLI and the tests."""

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

voc_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
