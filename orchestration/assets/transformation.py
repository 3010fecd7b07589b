"""dbt models, seeds and tests (as asset checks), downstream of the dlt assets."""


from collections.abc import Mapping, Sequence
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
        return layer_group(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        # an owner set in dbt (meta.owner / group) wins; otherwise the team owning the layer
        return super().get_owners(dbt_resource_props) or [LAYER_OWNERS.get(layer_group(dbt_resource_props), DEFAULT_OWNER)]


# The Dagster UI groups assets by layer: raw (dlt), staging, identity, nlp, marts, reports.
LAYER_OWNERS = {
    "seeds": "team:voc-business",  # business users edit the seed CSVs
    "staging": "team:data-engineering",
    "identity": "team:data-engineering",
    "nlp": "team:voc-nlp",
    "marts": "team:voc-analytics",
}
DEFAULT_OWNER = "team:data-engineering"


def layer_group(dbt_resource_props: Mapping[str, Any]) -> str:
    """Dagster group of a dbt node: its schema, except that the intermediate schema splits into
    identity resolution (int_identity__*), text analytics (int_feedback__*) and the statistics
    that only feed marts (everything else, grouped with the marts)."""
    schema = dbt_resource_props.get("config", {}).get("schema") or "dbt"
    if schema != "intermediate":
        return schema
    name = dbt_resource_props["name"]
    if name.startswith("int_identity__"):
        return "identity"
    if name.startswith("int_feedback__"):
        return "nlp"
    return "marts"


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
