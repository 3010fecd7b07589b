"""Run the whole asset graph once, in process, the way the nightly schedule does."""

from __future__ import annotations

import fcntl
from pathlib import Path

import dagster as dg

from orchestration.project import FULL_REFRESH_TAG, dbt_cli_resource, dbt_vars_args, voc_dbt_project
from orchestration.settings import VocSettings


def prepare_dbt_manifest(settings: VocSettings | None = None) -> None:
    """dagster-dbt builds its assets from a parsed manifest; parse before loading definitions.

    With ``settings``, dbt parses with the vars and the pseudonym key the run's build passes, so
    the build reuses this parse instead of parsing the project again (the profile, which holds
    the key, is part of what dbt compares). Parsing needs no key: without settings the profile's
    key is empty.
    """
    dbt = dbt_cli_resource(settings)  # on Spark: parsed for the spark target (its dispatch)
    args = ["parse", "--quiet", *(dbt_vars_args(settings.dbt_vars()) if settings else ())]
    target = Path(voc_dbt_project.target_path)
    target.mkdir(parents=True, exist_ok=True)
    # dbt writes manifest.json in place: two processes parsing at once (two `voc` commands, or
    # test workers) would leave a torn file for the one that reads it next
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if settings is None:
            dbt.cli(args, target_path=target).wait()
        else:
            with settings.dbt_key_in_environment():
                invocation = dbt.cli(args, target_path=target)
            invocation.wait()


def run_everything(
    settings: VocSettings,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
    full_refresh: bool = False,
) -> dg.ExecuteInProcessResult:
    """Materialize every asset (loads, dbt build with tests) against the settings' warehouse.

    Raises ``PseudonymKeyError`` before anything is written when real data has no secret
    pseudonym key (``VocSettings.require_pseudonym_key``). ``full_refresh`` rebuilds the
    incremental dbt models from scratch too (``FULL_REFRESH_TAG``), e.g. after a new key.

    Holds the warehouse's writer lock for the whole run (``orchestration.writer_lock``); raises
    ``WarehouseBusyError`` / ``WarehouseInUseError`` when another writer or a reader keeps it
    longer than ``settings.writer_wait_seconds``.
    """
    from dagster._core.utils import make_new_run_id

    from orchestration.writer_lock import hold_warehouse, install_dagster_yaml

    settings.require_pseudonym_key()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    if instance is None:
        install_dagster_yaml(settings.dagster_home)
        instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    run_id = make_new_run_id()
    tags = {FULL_REFRESH_TAG: "true"} if full_refresh else None
    with hold_warehouse(settings.warehouse_path, settings.writer_wait_seconds, run_id=run_id, instance=instance):
        prepare_dbt_manifest(settings)
        from orchestration.definitions import build_definitions  # needs the manifest

        job = build_definitions(settings).resolve_job_def("voc_everything")
        run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
        return job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False, run_id=run_id, tags=tags
        )
