"""The Dagster code location loads and forms one lineage graph from dlt loads to marts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

pytestmark = pytest.mark.dbt


def test_definitions_load_as_one_graph(dbt_manifest):
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for family in ("surveys", "tickets", "reviews", "social", "members", "stores", "products"):
        assert f"raw/{family}" in keys
    for mart in ("fct_feedback", "dim_customer", "bridge_customer_identifier", "kpi_daily"):
        assert f"marts/{mart}" in keys

    # dbt sources are keyed to the dlt assets, so staging depends on materializable dlt assets.
    staging = graph.get(dg.AssetKey(["staging", "stg_surveys__responses"]))
    assert dg.AssetKey(["raw", "surveys"]) in staging.parent_keys
    assert graph.get(dg.AssetKey(["raw", "surveys"])).is_materializable
    members = graph.get(dg.AssetKey(["staging", "stg_members__bound_accounts"]))
    assert dg.AssetKey(["raw", "members"]) in members.parent_keys

    # Only the raw layer is unconnected upstream: every dbt node has its inputs in the graph. The
    # exception is MetricFlow's time spine, a calendar that reads nothing (docs/metrics.md).
    roots = {key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).parent_keys}
    roots -= {"intermediate/metricflow_time_spine"}
    assert all(root.startswith(("raw/", "seeds/")) for root in roots), roots


def test_dbt_tests_are_asset_checks(dbt_manifest):
    from orchestration.definitions import defs

    check_keys = defs.resolve_asset_graph().asset_check_keys
    assert any(check.asset_key == dg.AssetKey(["marts", "fct_feedback"]) for check in check_keys)


def test_job_and_nightly_schedule(dbt_manifest):
    from orchestration.definitions import defs

    job = defs.resolve_job_def("voc_everything")
    # in-process execution that holds the warehouse's writer lock for the whole run
    assert job.executor_def.name == "voc_single_writer"
    assert job.executor_def.config_schema.as_field().config_type == dg.in_process_executor.config_schema.as_field().config_type
    schedule = defs.resolve_schedule_def("voc_nightly")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"


def test_dagster_definitions_validate(dbt_manifest):
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "orchestration.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
