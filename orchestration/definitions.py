"""The VoC warehouse as one Dagster code location: dlt loads -> dbt models -> checks."""

import dagster as dg

from orchestration.alerts.assets import alert_deliveries
from orchestration.assets.ingestion import ingestion_assets
from orchestration.assets.transformation import voc_dbt_models
from orchestration.checks import freshness_checks, freshness_sensor, quality_checks
from orchestration.project import voc_dbt_project
from orchestration.reports.assets import scorecard_html
from orchestration.resources import build_resources
from orchestration.sensors import landing_files_sensor, run_failure_sensor
from orchestration.settings import VocSettings

voc_dbt_project.prepare_if_dev()

# In-process execution: steps run one after another, so DuckDB only ever has one writer.
everything_job = dg.define_asset_job(
    name="voc_everything",
    # Freshness checks judge the time since the last load, so they run from their sensor, not in the load run.
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
    description="All loads, all dbt models, seeds and tests, all checks.",
    executor_def=dg.in_process_executor,
)

nightly_schedule = dg.ScheduleDefinition(
    name="voc_nightly",
    job=everything_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)



def build_definitions(settings: VocSettings) -> dg.Definitions:
    """The code location of one deployment: its settings become the resources."""
    return dg.Definitions(
        assets=[*ingestion_assets, voc_dbt_models, alert_deliveries, scorecard_html],
        asset_checks=[*quality_checks, *freshness_checks],
        jobs=[everything_job],
        schedules=[nightly_schedule],
        sensors=[freshness_sensor, landing_files_sensor, run_failure_sensor],
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )


# What `dagster dev -m orchestration.definitions` loads: the settings of this process's
# environment, read once (`voc ui` starts dagster with the environment its settings make).
defs = build_definitions(VocSettings.from_env())
