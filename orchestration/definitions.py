"""The VoC warehouse as one Dagster code location: dlt loads -> dbt models -> checks."""

import dagster as dg

from orchestration.alerts.assets import alert_deliveries
from orchestration.assets.ingestion import ingestion_assets
from orchestration.assets.transformation import voc_dbt_models
from orchestration.checks import freshness_checks, freshness_sensor, quality_checks
from orchestration.project import voc_dbt_project
from orchestration.publish.asset import (
    build_publication_withheld_hook,
    build_published_marts,
    steps_before_publication,
)
from orchestration.reports.assets import scorecard_html
from orchestration.resources import build_resources
from orchestration.sensors import landing_files_sensor, run_failure_sensor
from orchestration.settings import VocSettings
from orchestration.writer_lock import WRITER_TAG, single_writer_executor

voc_dbt_project.prepare_if_dev()

# write-audit-publish: downstream of every mart (dbt models of the marts schema), so a failing
# blocking check or dbt test upstream keeps it from running (orchestration/publish)
MART_KEYS = sorted(key for key in voc_dbt_models.keys if key.path[0] == "marts")
ASSET_CHECKS = [*quality_checks, *freshness_checks]
published_marts = build_published_marts(
    MART_KEYS,
    [key for definition in (voc_dbt_models, *ASSET_CHECKS) for key in definition.check_keys if key.asset_key in MART_KEYS],
)
ASSETS = [*ingestion_assets, voc_dbt_models, alert_deliveries, scorecard_html, published_marts]
publication_withheld = build_publication_withheld_hook(steps_before_publication(ASSETS, ASSET_CHECKS))

EVERYTHING_JOB_DESCRIPTION = "All loads, all dbt models, seeds and tests, all checks."


def build_everything_job(settings: VocSettings):
    """voc_everything: in-process execution (steps one after another) holding the warehouse's
    writer lock for the whole run, tagged so that the run queue starts one writer at a time."""
    return dg.define_asset_job(
        name="voc_everything",
        # Freshness checks judge the time since the last load, so they run from their sensor, not in the load run.
        selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
        description=EVERYTHING_JOB_DESCRIPTION,
        executor_def=writer_executor(settings),
        tags={WRITER_TAG: "true"},
        hooks={publication_withheld},
    )


def writer_executor(settings: VocSettings) -> dg.ExecutorDefinition:
    return single_writer_executor(settings.warehouse_path, settings.writer_wait_seconds)


def build_nightly_schedule(job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="voc_nightly",
        job=job,
        cron_schedule="0 2 * * *",
        execution_timezone="Asia/Shanghai",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )


def build_definitions(settings: VocSettings) -> dg.Definitions:
    """The code location of one deployment: its settings become the resources."""
    everything_job = build_everything_job(settings)
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[everything_job],
        schedules=[build_nightly_schedule(everything_job)],
        sensors=[freshness_sensor, landing_files_sensor, run_failure_sensor],
        resources=build_resources(settings),
        # runs of assets picked in the UI hold the writer lock too
        executor=writer_executor(settings),
    )


# What `dagster dev -m orchestration.definitions` loads: the settings of this process's
# environment, read once (`voc ui` starts dagster with the environment its settings make).
defs = build_definitions(VocSettings.from_env())
