"""dbt models, seeds and tests (as asset checks), downstream of the dlt assets."""


import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from loaders.writer_lock import wait_until_writable
from orchestration.assets.ingestion import raw_asset_key, resource_for_raw_table
from orchestration.engine.readers import engine_reader
from orchestration.metadata import dbt_node_metadata, save_feedback_keys
from orchestration.project import (
    DBT_PIPELINE_BUILD_ARGS,
    FULL_REFRESH_TAG,
    dbt_vars_args,
    forward_nlp_progress,
    voc_dbt_project,
)
from orchestration.resources import DUCKDB_WRITER_POOL, SettingsResource, VocWarehouse
from orchestration.settings import VocSettings


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
def voc_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: VocWarehouse, settings: SettingsResource
):
    """`dbt build` (unit tests excluded: they run in CI), then each built table's row count and the fct_feedback / alerts figures as
    materialization metadata (orchestration.metadata)."""
    settings.require_pseudonym_key()  # real data without a secret key: stop before dbt writes
    with tempfile.TemporaryDirectory(prefix="voc_dbt_metadata_") as scratch:
        previous_feedback_keys = _save_feedback_keys_before_build(context, warehouse, settings, Path(scratch))
        # the warehouse and NLP configuration of the settings reach dbt's profile as --vars, the
        # pseudonym key through dbt's environment only (never a var: vars land in the artifacts)
        dbt_vars = {**settings.dbt_vars(), "voc_warehouse_path": str(warehouse.warehouse_path)}
        full_refresh = ["--full-refresh"] if context.run.tags.get(FULL_REFRESH_TAG) == "true" else []
        # a reader (BI tool) that opened the file since the run started would fail dbt obscurely
        if not settings.uses_spark:  # on Spark, dbt writes Parquet tables, not the DuckDB file
            wait_until_writable(warehouse.warehouse_path, settings.writer_wait_seconds, on_wait=context.log.warning)
        with settings.dbt_key_in_environment():
            invocation = dbt.cli([*DBT_PIPELINE_BUILD_ARGS, *full_refresh, *dbt_vars_args(dbt_vars)], context=context)
        forward_nlp_progress(invocation, context.log.info)  # the enrichment's rows, rate, time left
        events, failure = _drain(invocation.stream())
        # dbt has exited: its write lock is released and the warehouse can be read.
        events = _with_model_metadata(context, events, invocation.manifest, warehouse, settings, previous_feedback_keys)
    yield from events
    if failure is not None:
        raise failure


FCT_FEEDBACK_KEY = dg.AssetKey(["marts", "fct_feedback"])


def _save_feedback_keys_before_build(
    context: dg.AssetExecutionContext, warehouse: VocWarehouse, settings: VocSettings, scratch: Path
) -> Path | None:
    """fct_feedback is rebuilt as a whole: keep its keys to count new and updated feedback after."""
    if FCT_FEEDBACK_KEY not in context.selected_asset_keys:
        return None
    if not settings.uses_spark and not warehouse.warehouse_path.exists():
        return None
    path = scratch / "fct_feedback_keys.parquet"
    try:
        with engine_reader(settings, warehouse.warehouse_path) as reader:
            return path if save_feedback_keys(reader, path) else None
    except Exception as exc:  # noqa: BLE001
        context.log.warning(f"fct_feedback keys not saved, new/updated counts will be off: {exc}")
        return None


def _drain(events: Iterator) -> tuple[list, Exception | None]:
    """All events of a dbt invocation, and the error it ended with (a failed model or test).

    DuckDB lets no other process read the file while dbt writes it, so metadata can only be
    read once dbt has exited; dagster-dbt's own fetch_row_counts() waits the same way.
    """
    collected = []
    try:
        for event in events:
            collected.append(event)
    except Exception as exc:  # noqa: BLE001  (re-raised by the caller once the events are out)
        return collected, exc
    return collected, None


def _unique_id(event: Any) -> str | None:
    """The dbt unique_id dagster-dbt puts in a model's materialization metadata."""
    value = (getattr(event, "metadata", None) or {}).get("unique_id")
    return getattr(value, "value", value)


def _with_model_metadata(
    context: dg.AssetExecutionContext,
    events: list,
    manifest: Mapping[str, Any],
    warehouse: VocWarehouse,
    settings: VocSettings,
    previous_feedback_keys: Path | None,
) -> list:
    """Each model's materialization with its row count (tables only, not views), and for
    fct_feedback and alerts the figures a reader of the UI asks first. One marts reader of the engine,
    closed before any event is handed to Dagster; aggregate queries only. A metadata failure is
    logged and never fails the build."""
    nodes = manifest.get("nodes", {})
    try:
        with engine_reader(settings, warehouse.warehouse_path) as reader:
            return [_with_node_metadata(context, event, nodes, reader, previous_feedback_keys) for event in events]
    except Exception as exc:  # noqa: BLE001  (the reader could not be opened)
        context.log.warning(f"dbt model metadata not computed: {exc}")
        return events


def _with_node_metadata(
    context: dg.AssetExecutionContext, event: Any, nodes: Mapping[str, Any], reader: Any, previous_keys: Path | None
) -> Any:
    node = nodes.get(_unique_id(event))
    if not isinstance(event, (dg.Output, dg.AssetMaterialization)) or node is None:
        return event
    try:
        extra = dbt_node_metadata(reader, node, previous_keys)
    except Exception as exc:  # noqa: BLE001
        context.log.warning(f"Metadata of {node['unique_id']} not computed: {exc}")
        extra = {}
    return event.with_metadata({**event.metadata, **extra}) if extra else event
