"""Run the whole asset graph once, in process, the way the nightly schedule does."""

from __future__ import annotations

import dagster as dg

from orchestration.project import DBT_EXECUTABLE, voc_dbt_project
from orchestration.settings import VocSettings


def prepare_dbt_manifest() -> None:
    """dagster-dbt builds its assets from a parsed manifest; parse before loading definitions."""
    from dagster_dbt import DbtCliResource

    dbt = DbtCliResource(project_dir=voc_dbt_project, dbt_executable=DBT_EXECUTABLE)
    dbt.cli(["parse", "--quiet"], target_path=voc_dbt_project.target_path).wait()


def run_everything(
    settings: VocSettings, instance: dg.DagsterInstance | None = None, log_level: str = "INFO"
) -> dg.ExecuteInProcessResult:
    """Materialize every asset (loads, dbt build with tests) against the settings' warehouse."""
    settings.export()
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    prepare_dbt_manifest()
    from orchestration.definitions import defs  # needs the manifest

    job = defs.resolve_job_def("voc_everything")
    if instance is None:
        settings.dagster_home.mkdir(parents=True, exist_ok=True)
        instance = dg.DagsterInstance.get()
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    return job.execute_in_process(run_config=run_config, instance=instance, raise_on_error=False)
