"""dbt models, seeds and tests (as asset checks), downstream of the dlt assets."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.assets.ingestion import DUCKDB_WRITER_POOL, raw_asset_key, resource_for_raw_table
from orchestration.project import voc_dbt_project


class VocDbtTranslator(DagsterDbtTranslator):
    """dbt sources take the dlt asset keys, so loads and models form one lineage graph."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return raw_asset_key(resource_for_raw_table(dbt_resource_props["name"]))
        schema = dbt_resource_props.get("config", {}).get("schema") or "main"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


voc_dbt_translator = VocDbtTranslator(
    # Several raw tables (main, child, quarantine, load log) come from one dlt resource.
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)


@dbt_assets(
    manifest=voc_dbt_project.manifest_path,
    project=voc_dbt_project,
    dagster_dbt_translator=voc_dbt_translator,
    pool=DUCKDB_WRITER_POOL,
)
def voc_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
