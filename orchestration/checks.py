"""The expectation suites as Dagster asset checks, plus a freshness check per source family.

Every guarded asset gets two checks:

* ``gx_errors`` (severity ERROR, **blocking**): the asset's ``error`` rules. When one fails, the
  check step fails and Dagster skips every step downstream of the asset in the same run. The raw
  checks sit between the dlt loads and the dbt step, so a broken load never reaches dbt at all.
* ``gx_warnings`` (severity WARN): the ``warn`` rules; they only report.

One ``@multi_asset_check`` per source family (raw) and one per layer (staging, marts) runs all
its suites in a single read-only GX validation. The checks run in the DuckDB writer pool, so
they never overlap a dlt or dbt step that holds the write lock.

Beside them, ``landing_<family>`` (``orchestration.landing_checks``) warns about renamed vendor
fields and refused landing paths.
"""


from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

import dagster as dg

from expectations.report import report_dir_for, write_report
from expectations.runner import SuiteOutcome, validate_suites
from expectations.spark import validate_suites_spark
from expectations.suites import ERROR, FEEDBACK_STAGING_MODELS, WARN, Suite, mart_suite, raw_suites, staging_suites
from expectations.warehouse import ExpectationOutcome
from orchestration.assets.ingestion import RESOURCES_BY_FAMILY, raw_asset_key, resource_for_raw_table
from orchestration.assets.transformation import voc_dbt_models
from orchestration.engine.readers import warehouse_source
from orchestration.landing_checks import build_landing_checks
from orchestration.marts_reader import MartsReader, SparkMartsReader, reader_from
from orchestration.resources import DUCKDB_WRITER_POOL, SettingsResource, VocWarehouse
from orchestration.settings import VocSettings

ERROR_CHECK = "gx_errors"
WARN_CHECK = "gx_warnings"
FRESHNESS_WINDOW = timedelta(hours=26)
"""Loads run nightly; a family not loaded for a day and two hours of slack is overdue."""
FRESHNESS_SENSOR = "voc_source_freshness"


def check_specs_for(asset_keys: Iterable[dg.AssetKey], layer: str) -> list[dg.AssetCheckSpec]:
    """The blocking ERROR check and the WARN check of each guarded asset."""
    specs = []
    for key in asset_keys:
        specs.append(
            dg.AssetCheckSpec(
                ERROR_CHECK,
                asset=key,
                blocking=True,
                description=f"great-expectations ERROR rules of the {layer} layer; failing blocks downstream assets.",
            )
        )
        specs.append(
            dg.AssetCheckSpec(
                WARN_CHECK, asset=key, description=f"great-expectations WARN rules of the {layer} layer."
            )
        )
    return specs


def _failure_details(outcome: ExpectationOutcome) -> dict[str, Any]:
    return {
        "expectation": outcome.expectation,
        "observed": outcome.observed,
        "unexpected_count": outcome.unexpected_count,
        "samples": outcome.samples,
        "error": outcome.error,
    }


def check_result(
    asset_key: dg.AssetKey, severity: str, outcomes: list[ExpectationOutcome], seconds: float, report: str
) -> dg.AssetCheckResult:
    """One Dagster result for the rules of one severity on one asset, failures in the metadata."""
    failed = [outcome for outcome in outcomes if not outcome.success]
    metadata: dict[str, Any] = {
        "expectations_checked": len(outcomes),
        "expectations_failed": len(failed),
        "validation_seconds": round(seconds, 3),
        "report": dg.MetadataValue.path(report),
    }
    if failed:
        first = failed[0]
        metadata["failing_expectation"] = dg.MetadataValue.text("; ".join(o.expectation for o in failed))
        metadata["observed_value"] = dg.MetadataValue.json({"value": first.observed})
        metadata["sample_failing_rows"] = dg.MetadataValue.json(first.samples)
        metadata["failures"] = dg.MetadataValue.json([_failure_details(o) for o in failed])
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=ERROR_CHECK if severity == ERROR else WARN_CHECK,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if severity == ERROR else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=("Failed: " + failed[0].expectation) if failed else None,
    )


def results_per_asset(outcomes: list[SuiteOutcome], report: str) -> Iterable[dg.AssetCheckResult]:
    """Group suite outcomes by guarded asset and severity into check results."""
    by_asset: dict[tuple[str, ...], list[SuiteOutcome]] = {}
    for outcome in outcomes:
        by_asset.setdefault(outcome.suite.asset_path, []).append(outcome)
    for asset_path, suite_outcomes in by_asset.items():
        seconds = sum(outcome.seconds for outcome in suite_outcomes)
        for severity in (ERROR, WARN):
            rule_outcomes = [o for outcome in suite_outcomes for o in outcome.of_severity(severity)]
            yield check_result(dg.AssetKey(list(asset_path)), severity, rule_outcomes, seconds, report)


def _run_suites(
    context: dg.AssetCheckExecutionContext,
    warehouse: VocWarehouse,
    settings: VocSettings,
    check_name: str,
    build_suites: Callable[[Path | MartsReader], list[Suite]],
) -> Iterable[dg.AssetCheckResult]:
    """Validate on the settings' engine: the DuckDB file, or the Spark tables through a reader
    session (dbt's staging models are tables on Spark, so the checks see them without dbt's catalog)."""
    with warehouse_source(settings, warehouse.warehouse_path) as target:
        suites = build_suites(target)
        outcomes = validate_in_warehouse(target, suites)
    report = write_report(report_dir_for(warehouse.warehouse_path), check_name, outcomes)
    total = sum(outcome.seconds for outcome in outcomes)
    context.log.info(f"{check_name}: {len(suites)} suites validated in {total:.2f}s; report {report}")
    selected = context.selected_asset_check_keys
    for result in results_per_asset(outcomes, str(report)):
        if dg.AssetCheckKey(result.asset_key, result.check_name) in selected:
            yield result


def _raw_family_check(family: str) -> dg.AssetChecksDefinition:
    asset_keys = [raw_asset_key(resource) for resource in RESOURCES_BY_FAMILY[family]]
    # the family's load log and quarantine are reported on the asset dbt maps them to
    reconciliation_table = resource_for_raw_table(f"{family}_files")

    @dg.multi_asset_check(
        specs=check_specs_for(asset_keys, "raw"),
        name=f"gx_raw_{family}",
        description=f"great-expectations suites of the raw {family} tables and their load reconciliation.",
        can_subset=True,
        pool=DUCKDB_WRITER_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: VocWarehouse, settings: SettingsResource):
        yield from _run_suites(
            context, warehouse, settings, f"gx_raw_{family}", lambda _: raw_suites(family, reconciliation_table)
        )

    return _check


def dbt_asset_keys(schema: str) -> list[dg.AssetKey]:
    """Keys of the dbt models materialized in ``schema`` (from the dbt manifest)."""
    return sorted(key for key in voc_dbt_models.keys if key.path[0] == schema)


def _staging_check() -> dg.AssetChecksDefinition:
    available = set(dbt_asset_keys("staging"))
    guarded = [dg.AssetKey(["staging", model]) for model in FEEDBACK_STAGING_MODELS]
    guarded = [key for key in guarded if key in available]

    def build(_target: Path | MartsReader) -> list[Suite]:
        return [suite for suite in staging_suites() if dg.AssetKey(list(suite.asset_path)) in guarded]

    @dg.multi_asset_check(
        specs=check_specs_for(guarded, "staging"),
        name="gx_staging",
        description="great-expectations suites of the staging views (raw -> staging reconciliation, plausible times).",
        can_subset=True,
        pool=DUCKDB_WRITER_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: VocWarehouse, settings: SettingsResource):
        yield from _run_suites(context, warehouse, settings, "gx_staging", build)

    return _check


def validate_in_warehouse(warehouse: Path | MartsReader, suites: list[Suite]) -> list[SuiteOutcome]:
    """The suites' outcomes on the engine that holds the warehouse: GX's SQL data source on the
    DuckDB file (read-only), or GX's Spark data source through a Spark marts reader."""
    if isinstance(warehouse, SparkMartsReader):
        warehouse.register_all()  # relations the SQL rules name resolve by name in the session
        return validate_suites_spark(warehouse.spark, suites)
    return validate_suites(warehouse, suites)


def mart_suites_in(warehouse: Path | MartsReader, mart_keys: Iterable[dg.AssetKey]) -> list[Suite]:
    """Mart suites, with the no-personal-data rule over the text columns each mart has now."""
    if isinstance(warehouse, (str, Path)):
        with reader_from(warehouse) as reader:
            return mart_suites_in(reader, mart_keys)
    return [mart_suite(key.path[-1], warehouse.text_columns(f"marts.{key.path[-1]}")) for key in mart_keys]


def _marts_check() -> dg.AssetChecksDefinition:
    mart_keys = dbt_asset_keys("marts")

    @dg.multi_asset_check(
        specs=check_specs_for(mart_keys, "marts"),
        name="gx_marts",
        description="great-expectations suites of the marts (NPS parts, KPI bounds, no personal data, quarantine rates).",
        can_subset=True,
        pool=DUCKDB_WRITER_POOL,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: VocWarehouse, settings: SettingsResource):
        selected = {key.asset_key for key in context.selected_asset_check_keys}
        keys = [key for key in mart_keys if key in selected]
        yield from _run_suites(context, warehouse, settings, "gx_marts", lambda target: mart_suites_in(target, keys))

    return _check


def build_quality_checks() -> list[dg.AssetChecksDefinition]:
    """Every great-expectations check of the code location."""
    return [*(_raw_family_check(family) for family in RESOURCES_BY_FAMILY), _staging_check(), _marts_check()]


def build_freshness_checks() -> list[dg.AssetChecksDefinition]:
    """One last-update freshness check per source family over its raw assets (WARN when overdue)."""
    checks: list[dg.AssetChecksDefinition] = []
    for resources in RESOURCES_BY_FAMILY.values():
        checks.extend(
            dg.build_last_update_freshness_checks(
                assets=[raw_asset_key(resource) for resource in resources],
                lower_bound_delta=FRESHNESS_WINDOW,
            )
        )
    return checks


quality_checks = [*build_quality_checks(), *build_landing_checks()]
freshness_checks = build_freshness_checks()
freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks,
    name=FRESHNESS_SENSOR,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
